import { z } from 'zod';
import { keyed, withRule, type FieldKit } from './fields.js';
import type { Problem } from './issues.js';
import type { DiscoveryConfig } from './types.js';
import { DEFAULT_DISCOVERY } from './defaults.js';
import { compilePattern } from '../discovery/pattern.js';

export { DEFAULT_DISCOVERY } from './defaults.js';

const SHA256 = /^[0-9a-fA-F]{64}$/;

/** The `discovery` section (go-plugins' names, snake_case accepted: `watch_mode`). */
export function discoverySchema(kit: FieldKit) {
  const text = () => kit.text(z.string().min(1, { error: 'must not be empty' }));
  const schema = z.strictObject({
    enabled: kit.boolean().default(DEFAULT_DISCOVERY.enabled),
    directories: z.array(text()).default(() => []),
    patterns: z.array(text()).default(() => [...DEFAULT_DISCOVERY.patterns]),
    watchMode: kit.boolean().default(DEFAULT_DISCOVERY.watchMode),
    checksums: z
      .record(
        z.string().min(1),
        kit.text(z.string().regex(SHA256, { error: 'must be a SHA-256 in hex (64 characters)' })),
      )
      .default(() => ({})),
    sumsFile: text().optional(),
    requireChecksums: kit.boolean().default(DEFAULT_DISCOVERY.requireChecksums),
    debounceMs: kit.duration('non-negative').default(DEFAULT_DISCOVERY.debounceMs),
    poll: kit.duration('non-negative').default(DEFAULT_DISCOVERY.poll),
  });
  return keyed(withRule(schema, needsDirectories));
}

function needsDirectories(config: DiscoveryConfig, valid: (...path: PropertyKey[]) => boolean) {
  const problems: Problem[] = [];
  if (valid('patterns')) {
    config.patterns.forEach((pattern, i) => {
      try {
        compilePattern(pattern);
      } catch (error) {
        problems.push({ path: ['patterns', i], message: (error as Error).message });
      }
    });
  }
  if (
    valid('enabled') &&
    valid('directories') &&
    config.enabled &&
    config.directories.length === 0
  ) {
    problems.push({
      path: ['directories'],
      message:
        'discovery is enabled but no directory is given: add directories: [/path/to/plugins]',
    });
  }
  return problems;
}
