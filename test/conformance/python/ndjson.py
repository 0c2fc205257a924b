"""The newline-delimited JSON conversation of docs/protocol/unix.md (also exec.md's stdin/stdout)."""
import json
import threading

import common


def serve_lines(lines, write):
    """Reads request lines until `lines` ends, answers each on its own thread, then waits for them.

    `write(obj)` must write one whole line. A "cancel" is handled here in the read loop, so it
    always finds the request read before it.
    """
    running = {}
    lock = threading.Lock()
    threads = []
    for raw in lines:
        if not raw.strip():
            continue
        try:
            msg = json.loads(raw)
        except ValueError:
            continue
        rid, kind = msg.get("request_id"), msg.get("type")
        if kind == "cancel":
            common.mark_cancelled(rid)
            with lock:
                stopped = running.get(rid)
            if stopped is not None:
                stopped.set()
            continue  # no reply to a cancel
        stopped = threading.Event()
        with lock:
            running[rid] = stopped
        thread = threading.Thread(target=_answer, args=(msg, stopped, write, running, lock), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()


def _answer(msg, stopped, write, running, lock):
    rid, kind = msg.get("request_id"), msg.get("type")
    try:
        if kind == "execute":
            timeout_ms = msg.get("timeout_ms")
            try:
                data = common.handle(msg.get("data"), rid, str(timeout_ms), timeout_ms or 0, stopped)
                out = {"success": True, "data": data}
            except common.Declined as error:
                out = {"success": False, "error": str(error)}
            except Exception as error:  # a failure, not the plugin's "no": let the host retry it
                out = {"success": False, "error": str(error), "retryable": True}
        elif kind == "health":
            out = {"success": True, "data": {"status": "healthy", "message": "python plugin"}}
        elif kind == "info":
            out = {"success": True, "data": {"name": "python-conformance", "version": "1.0.0"}}
        elif kind == "ping":
            out = {"success": True}
        else:
            out = {"success": False, "error": "unknown type %r" % kind}
    finally:
        with lock:
            running.pop(rid, None)
    write(dict({"type": kind, "request_id": rid}, **out))
