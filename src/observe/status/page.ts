/**
 * The status page: one self-contained HTML document (inline CSS and script, nothing fetched but
 * its own JSON), so it works offline and behind any proxy. It renders `status.json` (a path
 * relative to the page, so the page works under any mount prefix) and polls it.
 *
 * Data is written with `textContent` only: plugin names and error messages can never become
 * markup. The action token, when actions are on, is typed by the operator and kept in memory.
 */

/** What the page needs to know when it is served. */
export interface PageOptions {
  title: string;
  refreshMs: number;
  /** Base name of the JSON endpoint and of the actions, relative to the page. */
  base: string;
  actions: { enable: boolean; reload: boolean };
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--mute:#57606a;--line:#d0d7de;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--row:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mute:#9198a1;--line:#30363d;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--row:#161b22}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header,main{padding:12px 16px}
header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0}
h2{font-size:15px;margin:20px 0 8px}
.mute{color:var(--mute)}
button,input{font:inherit;padding:4px 10px;border:1px solid var(--line);border-radius:6px;background:var(--row);color:var(--fg)}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #0969da;outline-offset:1px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:4px}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:var(--row)}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
.badge{font-weight:600}
.err{max-width:36ch;overflow-wrap:anywhere}
#token-form{display:flex;gap:6px;align-items:center}
@media (max-width:720px){
 table,caption,thead,tbody,tr,th,td{display:block}
 thead{position:absolute;left:-9999px}
 tbody tr{border:1px solid var(--line);border-radius:8px;margin:0 0 10px;padding:4px 0}
 td{border:0;display:flex;justify-content:space-between;gap:12px;padding:3px 10px;text-align:right}
 td.num{text-align:right}
 td::before{content:attr(data-label);font-weight:600;color:var(--mute);text-align:left}
 th[scope=row]{font-size:15px;padding:6px 10px}
 .err{max-width:none}
 td.err{display:block;text-align:left}
 td.err::before{display:block}
}
`;

// Runs in the browser. Plain ES2017, no framework. Reads the options from the JSON island.
const SCRIPT = `
(function(){
'use strict';
var cfg=JSON.parse(document.getElementById('status-config').textContent);
var token='';var paused=false;var timer;
var $=function(id){return document.getElementById(id)};
function text(tag,value,cls,label){var el=document.createElement(tag);el.textContent=value;if(cls)el.className=cls;if(label)el.setAttribute('data-label',label);return el}
function num(v,unit,digits){return v===null||v===undefined?'\\u2013':v.toFixed(digits===undefined?1:digits)+(unit||'')}
function pct(v){return v===null||v===undefined?'\\u2013':(v*100).toFixed(1)+'%'}
var OK={state:/^ready$/,health:/^healthy$/,breaker:/^closed$/};
var BAD={state:/^(failed|closed)$/,health:/^(offline|unhealthy)$/,breaker:/^open$/};
function badge(v,label,kind){var cls=v===null?'mute':OK[kind].test(v)?'ok':BAD[kind].test(v)?'bad':'warn';return text('td',v===null?'none':v,'badge '+cls,label)}
function pluginRow(p){
 var tr=document.createElement('tr');tr.id='plugin-'+p.name;tr.setAttribute('data-plugin',p.name);
 var th=text('th',p.name);th.scope='row';tr.appendChild(th);
 tr.appendChild(text('td',p.group||'\\u2013','','Group'));
 tr.appendChild(badge(p.enabled?p.state:'disabled','State','state'));
 var h=badge(p.health,'Health','health');if(p.healthMessage)h.title=p.healthMessage;tr.appendChild(h);
 tr.appendChild(badge(p.breaker,'Breaker','breaker'));
 tr.appendChild(text('td',String(p.inFlight),'num','In flight'));
 tr.appendChild(text('td',num(p.callsPerSecond),'num','Calls/s'));
 tr.appendChild(text('td',pct(p.errorRate),'num'+(p.errorRate>0?' bad':''),'Errors'));
 tr.appendChild(text('td',num(p.p50Ms,' ms',p.p50Ms<10?2:1),'num','p50'));
 tr.appendChild(text('td',num(p.p99Ms,' ms',p.p99Ms<10?2:1),'num','p99'));
 var codes=Object.keys(p.errorCodes).map(function(c){return c+' \\u00d7'+p.errorCodes[c]}).join(', ');
 var le=text('td','','err','Last error');
 if(p.lastError)le.appendChild(text('div',p.lastError));
 if(codes)le.appendChild(text('div',codes,'mute'));
 if(!p.lastError&&!codes)le.textContent='\\u2013';
 tr.appendChild(le);
 if(cfg.actions.enable){var td=text('td','','','Actions');var b=text('button',p.enabled?'Disable':'Enable');b.type='button';
  b.setAttribute('aria-label',(p.enabled?'Disable ':'Enable ')+p.name);
  b.setAttribute('data-focus-key','toggle:'+p.name);
  b.addEventListener('click',function(){act('enable',{plugin:p.name,enabled:!p.enabled})});td.appendChild(b);tr.appendChild(td)}
 return tr}
function groupRow(g){
 var tr=document.createElement('tr');tr.id='group-'+g.name;tr.setAttribute('data-group',g.name);
 var th=text('th',g.name);th.scope='row';tr.appendChild(th);
 tr.appendChild(text('td',g.members.join(', '),'','Members'));
 tr.appendChild(text('td',g.available+' of '+g.members.length,'badge '+(g.available===0?'bad':g.available<g.members.length?'warn':'ok'),'Available'));
 tr.appendChild(text('td',String(g.inFlight),'num','In flight'));
 tr.appendChild(text('td',num(g.callsPerSecond),'num','Calls/s'));
 tr.appendChild(text('td',pct(g.errorRate),'num'+(g.errorRate>0?' bad':''),'Errors'));
 tr.appendChild(text('td',num(g.p50Ms,' ms',g.p50Ms<10?2:1),'num','p50'));
 tr.appendChild(text('td',num(g.p99Ms,' ms',g.p99Ms<10?2:1),'num','p99'));
 return tr}
function render(doc){
 // Rows are rebuilt on each update: keep the keyboard focus on the same control.
 var active=document.activeElement;var key=active&&active.getAttribute('data-focus-key');
 var pb=$('plugins-body');pb.replaceChildren.apply(pb,doc.plugins.map(pluginRow));
 var gb=$('groups-body');gb.replaceChildren.apply(gb,doc.groups.map(groupRow));
 $('groups').hidden=doc.groups.length===0;
 var r=$('ready');r.textContent=doc.ready?'Ready':'Not ready: '+doc.readiness.reason;r.className='badge '+(doc.ready?'ok':'bad');
 $('window').textContent=doc.windowSeconds>0?'Rates over the last '+Math.round(doc.windowSeconds)+' s':'Rates appear after the next update';
 $('updated').textContent='Updated '+new Date(doc.generatedAt).toLocaleTimeString();
 if(key){var again=document.querySelector('[data-focus-key="'+CSS.escape(key)+'"]');if(again)again.focus()}
 document.body.setAttribute('data-generated',doc.generatedAt)}
function refresh(){
 clearTimeout(timer);
 fetch(cfg.base+'.json',{cache:'no-store',headers:{accept:'application/json'}}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.json()})
 .then(function(doc){render(doc);$('conn').textContent=''},function(e){$('conn').textContent='Update failed ('+e.message+'); retrying'})
 .then(function(){if(!paused)timer=setTimeout(refresh,cfg.refreshMs)})}
function act(name,body){
 if(!token){$('action-result').textContent='Enter the action token first.';$('token').focus();return}
 fetch(cfg.base+'/actions/'+name,{method:'POST',headers:{'content-type':'application/json',authorization:'Bearer '+token},body:JSON.stringify(body)})
 .then(function(r){return r.json().then(function(j){$('action-result').textContent=(r.ok?'Done: ':'Refused: ')+(j.message||r.status)})})
 .catch(function(e){$('action-result').textContent='Failed: '+e.message}).then(refresh)}
$('pause').addEventListener('click',function(){paused=!paused;this.textContent=paused?'Resume updates':'Pause updates';this.setAttribute('aria-pressed',String(paused));if(!paused)refresh();else clearTimeout(timer)});
if(cfg.actions.enable||cfg.actions.reload){$('token-form').hidden=false;
 $('token-form').addEventListener('submit',function(e){e.preventDefault();token=$('token').value;$('action-result').textContent=token?'Token set for this page.':''});
 if(cfg.actions.reload){$('reload').hidden=false;$('reload').addEventListener('click',function(){act('reload',{})})}}
refresh();
})();
`;

/** Escapes text for HTML content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page; only `options` vary (the data arrives from the JSON endpoint). */
export function renderPage(options: PageOptions): string {
  // `<` escaped so that no value can close the script element it sits in.
  const config = JSON.stringify(options).replace(/</g, '\\u003c');
  const title = escapeHtml(options.title);
  const actionsCol = options.actions.enable ? '<th scope="col">Actions</th>' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
<a class="skip" href="#plugins">Skip to plugins</a>
<header>
<h1>${title}</h1>
<span id="ready" class="badge" role="status">Loading…</span>
<span id="updated" class="mute" aria-live="polite"></span>
<span id="window" class="mute"></span>
<span id="conn" class="bad" role="alert"></span>
<button id="pause" type="button" aria-pressed="false">Pause updates</button>
<form id="token-form" hidden>
<label for="token">Action token</label>
<input id="token" type="password" autocomplete="off" spellcheck="false">
<button type="submit">Set</button>
<button id="reload" type="button" hidden>Reload config</button>
<span id="action-result" role="status"></span>
</form>
</header>
<main>
<section id="plugins" aria-labelledby="plugins-title">
<h2 id="plugins-title">Plugins</h2>
<table>
<caption class="mute">Rates, errors and latency percentiles are per attempt over the window shown above.</caption>
<thead><tr><th scope="col">Plugin</th><th scope="col">Group</th><th scope="col">State</th><th scope="col">Health</th><th scope="col">Breaker</th><th scope="col">In flight</th><th scope="col">Calls/s</th><th scope="col">Errors</th><th scope="col">p50</th><th scope="col">p99</th><th scope="col">Last error</th>${actionsCol}</tr></thead>
<tbody id="plugins-body"></tbody>
</table>
</section>
<section id="groups" aria-labelledby="groups-title" hidden>
<h2 id="groups-title">Groups</h2>
<table>
<thead><tr><th scope="col">Group</th><th scope="col">Members</th><th scope="col">Available</th><th scope="col">In flight</th><th scope="col">Calls/s</th><th scope="col">Errors</th><th scope="col">p50</th><th scope="col">p99</th></tr></thead>
<tbody id="groups-body"></tbody>
</table>
</section>
</main>
<script type="application/json" id="status-config">${config}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
