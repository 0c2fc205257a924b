import type { ManagerConfig } from '../config/types.js';
import { EXIT_INVALID, EXIT_OK, UsageError, load, parse, problemLines, type Io } from './shared.js';

export const VALIDATE_HELP = `Usage: plugwire validate <file> [--json]

Validates a plugwire (or go-plugins) configuration file, YAML or JSON, exactly as
manager.load() would: the schema, every built-in transport's checks, group strategies,
\${ENV} references (read from this environment). Nothing is started.

Every problem is printed by path with its go-plugins code, e.g.
  plugins[2].endpoint: must be an absolute http(s) URL [PLUGIN_1004]
Secret values (auth fields, \${ENV} values) are never printed.

Options:
  --json      print {"file","valid","problems":[{"path","message","code"}],"plugins","groups"}
  -h, --help  show this help

Exit status: 0 valid, 1 invalid (or unreadable), 2 wrong usage.
`;

export async function validate(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (values.help) {
    io.out(VALIDATE_HELP);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError('validate takes exactly one file');
  const file = positionals[0]!;
  const loaded = await load(file);
  if (values.json) {
    io.out(
      `${JSON.stringify(
        loaded.ok
          ? {
              file,
              valid: true,
              problems: [],
              plugins: loaded.config.plugins.map((p) => p.name),
              groups: groupsOf(loaded.config),
            }
          : { file, valid: false, problems: loaded.problems },
        null,
        2,
      )}\n`,
    );
    return loaded.ok ? EXIT_OK : EXIT_INVALID;
  }
  if (!loaded.ok) {
    const n = loaded.problems.length;
    io.err(`${file}: invalid (${n} problem${n === 1 ? '' : 's'})\n`);
    io.err(`${problemLines(loaded.problems).join('\n')}\n`);
    return EXIT_INVALID;
  }
  const plugins = loaded.config.plugins.length;
  const groups = groupsOf(loaded.config).length;
  io.out(
    `${file}: valid (${plugins} plugin${plugins === 1 ? '' : 's'}, ${groups} group${groups === 1 ? '' : 's'})\n`,
  );
  return EXIT_OK;
}

/** Groups declared under `groups` or named by a plugin's `group`. */
function groupsOf(config: ManagerConfig): string[] {
  const named = config.plugins.flatMap((p) => (p.group === undefined ? [] : [p.group]));
  return [...new Set([...Object.keys(config.groups), ...named])];
}
