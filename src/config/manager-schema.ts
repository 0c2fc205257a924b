import { z } from 'zod';
import { ErrorCode } from '../errors.js';
import {
  DEFAULT_METRICS_HOST,
  DEFAULT_POLICY,
  DEFAULT_READINESS,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_STARTUP_CONCURRENCY,
} from './defaults.js';
import { isRecord, keyed, reportKeyProblems, withRule, type FieldKit } from './fields.js';
import type { Problem } from './issues.js';
import { clusterRules, clusterSchema } from './cluster-schema.js';
import { closest, normaliseKeys, snakeCase, type KeyProblem } from './keys.js';
import { NAME, NAME_RULE, pluginSchema, type SchemaContext } from './plugin-schema.js';
import { policySchema, retrySchema } from './policy-schema.js';
import { outlierSchema } from './outlier-schema.js';
import { discoverySchema } from './discovery-schema.js';
import type { LogLevel, ManagerConfig, PolicyConfig } from './types.js';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

// go-plugins keeps the policy defaults at the top level (`default_retry: …`); they belong
// under `defaults` here.
const GO_DEFAULTS: Readonly<Record<string, keyof PolicyConfig>> = {
  defaultRetry: 'retry',
  defaultCircuitBreaker: 'circuitBreaker',
  defaultHealthCheck: 'healthCheck',
  defaultConnection: 'connection',
  defaultRateLimit: 'rateLimit',
  defaultStartup: 'startup',
};

/**
 * The top level's keys in camelCase, with go-plugins' `default_*` sections moved under
 * `defaults`. Used by the schema and, before it, to read `defaults` on its own.
 */
export function normaliseRoot(
  input: Record<string, unknown>,
  known: ReadonlySet<string>,
): { value: Record<string, unknown>; problems: KeyProblem[] } {
  const { value, problems } = normaliseKeys(
    input,
    new Set([...known, ...Object.keys(GO_DEFAULTS)]),
  );
  const spelled = (key: string) =>
    Object.keys(input).find((k) => k === key || k === snakeCase(key)) ?? key;
  for (const [goKey, section] of Object.entries(GO_DEFAULTS)) {
    if (!(goKey in value)) continue;
    const moved = value[goKey];
    delete value[goKey];
    const defaults = value.defaults ?? {};
    if (!isRecord(defaults)) continue; // `defaults` itself is reported as not an object
    if (section in defaults || snakeCase(section) in defaults) {
      problems.push({
        key: spelled(goKey),
        message: `defaults.${section} is also set; keep only one of them`,
      });
      continue;
    }
    value.defaults = { ...defaults, [section]: moved };
  }
  return { value, problems };
}

function groupSchema(context: SchemaContext, defaults: PolicyConfig) {
  const { kit, strategies } = context;
  // Strategy names come from the balancer registry; without one, any name passes here.
  const strategy = z.string().refine((name) => strategies === undefined || strategies.has(name), {
    error: (issue) => {
      const known = strategies ?? new Set<string>();
      const hint = closest(String(issue.input), known);
      return `unknown strategy${hint ? ` (did you mean "${hint}"?)` : ''}; valid strategies: ${[...known].join(', ')}`;
    },
  });
  return keyed(
    z.strictObject({
      strategy: kit.text(strategy).default('round-robin'),
      options: kit.freeform().default(() => ({})),
      outlierDetection: outlierSchema(kit).optional(),
      idempotent: kit.boolean().optional(),
      retry: retrySchema(kit, defaults.retry).optional(),
      timeout: kit.duration('positive').optional(),
      retryBudget: retryBudgetSchema(kit).optional(),
      hedging: keyed(
        z.strictObject({
          delay: kit.duration('non-negative'),
          maxHedges: kit.number(z.int().min(1).max(10)).default(1),
        }),
      ).optional(),
    }),
  );
}

function readinessSchema(kit: FieldKit) {
  const POLICY_RULE = 'must be "attempted", "healthy" or { minReady: n } with n a whole number ≥ 0';
  const minReady = keyed(z.strictObject({ minReady: kit.number(z.int().min(0)) }));
  return keyed(
    z.strictObject({
      policy: z
        .union([kit.text(z.enum(['attempted', 'healthy'])), minReady], { error: POLICY_RULE })
        .default(DEFAULT_READINESS.policy),
      required: z.array(kit.text(z.string().min(1))).default(() => []),
    }),
  );
}

// go-plugins' level names, any case ("INFO"); "warning" is read as "warn". An empty string
// (Go's zero value, written by a Go program that serialised its config) means "not set".
function logLevelSchema(kit: FieldKit) {
  const level = z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const lower = value.trim().toLowerCase();
      if (lower === '') return undefined;
      return lower === 'warning' ? 'warn' : lower;
    },
    z
      .enum(LOG_LEVELS as [LogLevel, ...LogLevel[]], {
        error: `must be one of ${LOG_LEVELS.join(', ')}`,
      })
      .optional(),
  );
  return kit.text(level);
}

function retryBudgetSchema(kit: FieldKit) {
  return keyed(
    z.strictObject({
      ratio: kit.number(z.number().min(0).max(1)).default(DEFAULT_RETRY_BUDGET.ratio),
      minPerSecond: kit.number(z.number().min(0)).default(DEFAULT_RETRY_BUDGET.minPerSecond),
    }),
  );
}

/**
 * The whole config. `defaults` is the already-parsed `defaults` section (or the built-in
 * defaults when it is invalid): plugins fall back to it field by field.
 */
export function managerSchema(context: SchemaContext, defaults: PolicyConfig) {
  const { kit } = context;
  const schema = z.strictObject({
    logLevel: logLevelSchema(kit).optional(),
    metricsPort: kit.number(z.int().min(0).max(65_535)).default(0),
    metricsHost: kit.text(z.string().min(1)).default(DEFAULT_METRICS_HOST),
    defaults: policySchema(kit, DEFAULT_POLICY).prefault({}),
    groups: z
      .record(
        z.string().regex(NAME, { error: `group name ${NAME_RULE}` }),
        groupSchema(context, defaults),
      )
      .default(() => ({})),
    readiness: readinessSchema(kit).prefault({}),
    retryBudget: retryBudgetSchema(kit).prefault({}),
    startupConcurrency: kit.number(z.int().positive()).default(DEFAULT_STARTUP_CONCURRENCY),
    cluster: clusterSchema(kit),
    plugins: z.array(pluginSchema(context, defaults), {
      error: (issue) =>
        issue.input === undefined
          ? 'no plugins configured: add a plugins list (an empty list, plugins: [], is allowed)'
          : undefined,
    }),
    discovery: discoverySchema(kit).prefault({}),
  });
  const known = new Set(Object.keys(schema.shape));
  return z.preprocess(
    (value, ctx) => {
      if (!isRecord(value)) return value;
      const { value: renamed, problems } = normaliseRoot(value, known);
      reportKeyProblems(ctx, problems);
      return renamed;
    },
    withRule(schema, (config, valid) => [
      ...checkNames(config, valid),
      ...clusterRules(config, valid),
    ]),
  );
}

/**
 * Plugin names are unique; plugins and groups share one namespace (a target is either);
 * readiness may only require plugins that exist.
 */
function checkNames(config: ManagerConfig, valid: (...path: PropertyKey[]) => boolean): Problem[] {
  // Read defensively: rules run even when parts of the config are invalid.
  const plugins: unknown[] = Array.isArray(config.plugins) ? config.plugins : [];
  const problems: Problem[] = [];
  const groupNames = new Set<string>();
  if (isRecord(config.groups)) {
    for (const name of Object.keys(config.groups)) if (valid('groups', name)) groupNames.add(name);
  }
  plugins.forEach((plugin, i) => {
    if (isRecord(plugin) && valid('plugins', i, 'group') && typeof plugin.group === 'string') {
      groupNames.add(plugin.group);
    }
  });
  const firstIndex = new Map<string, number>();
  const allNames = new Set<string>();
  plugins.forEach((plugin, i) => {
    if (!isRecord(plugin) || typeof plugin.name !== 'string') return;
    allNames.add(plugin.name);
    if (!valid('plugins', i, 'name')) return;
    const path = ['plugins', i, 'name'];
    const first = firstIndex.get(plugin.name);
    if (first !== undefined) {
      problems.push({
        path,
        code: ErrorCode.DuplicatePluginName,
        message: `duplicate plugin name "${plugin.name}" (first used by plugins[${first}])`,
      });
      return;
    }
    firstIndex.set(plugin.name, i);
    if (groupNames.has(plugin.name)) {
      problems.push({
        path,
        code: ErrorCode.DuplicatePluginName,
        message: `"${plugin.name}" is also a group name; plugins and groups share one namespace, so rename one of them`,
      });
    }
  });
  const required = isRecord(config.readiness) ? config.readiness.required : undefined;
  if (Array.isArray(required)) {
    required.forEach((name, j) => {
      if (!valid('readiness', 'required', j) || allNames.has(name)) return;
      const hint = closest(name, allNames);
      problems.push({
        path: ['readiness', 'required', j],
        message: `no plugin is named "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
      });
    });
  }
  return problems;
}
