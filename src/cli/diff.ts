import { diffModels, type ConfigDiff } from '../reload/diff.js';
import { canApplyInPlace } from '../reload/rules.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  UsageError,
  load,
  parse,
  problemLines,
  table,
  type Io,
} from './shared.js';

export const DIFF_HELP = `Usage: plugwire diff <old> <new> [--json]

Shows what reloading from config <old> to config <new> would do, as manager.reload()
decides it: plugins added and removed, and for each changed plugin every changed field
and whether it applies in place (limits, breaker, retry, health timing, weight,
priority, enabled, labels) or recreates the plugin (endpoint, transport, auth, ...).
Field names only: values, secret or not, are never printed.

Both files are validated first; problems are printed as by "plugwire validate".

Options:
  --json      print the diff as JSON (diffConfigs() output, each change with its mode)
  -h, --help  show this help

Exit status: 0 (whether or not anything changed), 1 when a file is invalid, 2 wrong usage.
`;

export async function diff(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (values.help) {
    io.out(DIFF_HELP);
    return EXIT_OK;
  }
  if (positionals.length !== 2) throw new UsageError('diff takes two files: <old> <new>');
  const [oldFile, newFile] = positionals as [string, string];
  const [old, next] = await Promise.all([load(oldFile), load(newFile)]);
  let invalid = false;
  for (const [file, loaded] of [
    [oldFile, old],
    [newFile, next],
  ] as const) {
    if (!loaded.ok) {
      invalid = true;
      io.err(`${file}: invalid (${loaded.problems.length} problems)\n`);
      io.err(`${problemLines(loaded.problems).join('\n')}\n`);
    }
  }
  if (!old.ok || !next.ok || invalid) return EXIT_INVALID;
  const result = diffModels(old.config, next.config);
  if (values.json) {
    io.out(`${JSON.stringify(withModes(result), null, 2)}\n`);
    return EXIT_OK;
  }
  io.out(render(result));
  return EXIT_OK;
}

/** The diff, each plugin change with the mode it alone would need. */
function withModes(result: ConfigDiff): object {
  return {
    ...result,
    updated: result.updated.map((u) => ({
      ...u,
      fields: u.changes.map((path) => ({
        path,
        mode: canApplyInPlace(path) ? 'in-place' : 'recreate',
      })),
    })),
  };
}

function render(d: ConfigDiff): string {
  const out: string[] = [];
  const nothing =
    d.added.length + d.removed.length + d.updated.length === 0 &&
    d.groups.added.length + d.groups.removed.length + d.groups.updated.length === 0 &&
    d.settings.length === 0;
  if (nothing) return `No changes: a reload would leave every plugin as it is.\n`;
  if (d.added.length > 0) out.push(`Added (created and started):  ${d.added.join(', ')}`);
  if (d.removed.length > 0) out.push(`Removed (drained and closed): ${d.removed.join(', ')}`);
  if (d.updated.length > 0) {
    out.push('Updated:');
    for (const u of d.updated) {
      const how = u.mode === 'in-place' ? 'in place' : 'recreated';
      out.push(`  ${u.name}: ${how}`);
      const rows = u.changes.map((path) => [
        `    ${path}`,
        canApplyInPlace(path) ? 'in place' : 'needs recreate',
      ]);
      out.push(table(['    field', 'applies'], rows));
    }
  }
  const g = d.groups;
  if (g.added.length + g.removed.length + g.updated.length > 0) {
    const parts = [
      ...g.added.map((n) => `${n} (added)`),
      ...g.removed.map((n) => `${n} (removed)`),
      ...g.updated.map((u) => `${u.name} (${u.changes.join(', ')})`),
    ];
    out.push(`Groups: ${parts.join('; ')}`);
  }
  if (d.settings.length > 0) out.push(`Settings: ${d.settings.join(', ')}`);
  if (d.unchanged.length > 0) out.push(`Unchanged: ${d.unchanged.join(', ')}`);
  return `${out.join('\n')}\n`;
}
