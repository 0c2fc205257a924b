import { z } from 'zod';
import type { PluginConfig, PolicyConfig } from './types.js';
import { authSchema, tlsSchema } from './auth-schema.js';
import { keyed, withRule, type FieldKit } from './fields.js';
import { parsePath, type Problem } from './issues.js';
import { policyShape } from './policy-schema.js';
import { registerEnvEntrySecret, registerUrlPassword } from './secrets.js';
import { checkTransportName } from './transport-rules.js';
import type { TransportValidator } from '../types.js';
import { ErrorCode } from '../errors.js';
import { errorMessage } from '../internal/errorMessage.js';

/** What the schema needs besides the field builders. */
export interface SchemaContext {
  kit: FieldKit;
  /** Transport names accepted: the built-in ones and the registered ones. */
  transports: ReadonlySet<string>;
  /** The fix to show for a known transport name that is not registered. */
  transportHint?: ((name: string) => string | undefined) | undefined;
  /** Transports with extra checks, by name. */
  validators: ReadonlyMap<string, TransportValidator>;
  /** Balancing strategy names accepted for groups. */
  strategies: ReadonlySet<string> | undefined;
}

/** Plugin and group names: what may follow `execute(` without surprise. */
export const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;
export const NAME_RULE =
  'must start with a letter or digit and contain only letters, digits, ".", "_" and "-" (at most 128 characters)';
const ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** One plugin, its policy sections falling back to `defaults` field by field. */
export function pluginSchema(context: SchemaContext, defaults: PolicyConfig) {
  const { kit } = context;
  const text = () => kit.text(z.string().min(1));
  const stringMap = () => z.record(z.string(), kit.text(z.string())).default(() => ({}));
  const schema = z.strictObject({
    name: kit.text(z.string().regex(NAME, { error: NAME_RULE })),
    transport: text(),
    endpoint: kit
      .text(z.string().min(1))
      .transform((url) => (registerUrlPassword(url), url))
      .optional(),
    socketPath: text().optional(),
    enabled: kit.boolean().default(true),
    idempotent: kit.boolean().default(false),
    group: kit.text(z.string().regex(NAME, { error: NAME_RULE })).optional(),
    priority: kit.number(z.int()).default(0),
    weight: kit.number(z.number().positive()).default(1),
    type: text().optional(),
    labels: stringMap(),
    annotations: stringMap(),
    options: kit.freeform().default(() => ({})),
    auth: authSchema(kit).prefault({}),
    tls: tlsSchema(kit).optional(),
    executable: text().optional(),
    args: z.array(kit.text(z.string())).default(() => []),
    env: z
      .array(
        kit
          .text(z.string().regex(ENV_ENTRY, { error: 'must look like KEY=value' }))
          .transform((entry) => (registerEnvEntrySecret(entry), entry)),
      )
      .default(() => []),
    workDir: text().optional(),
    ...policyShape(kit, defaults),
  });
  const checked = withRule(
    withRule(schema, (plugin, valid) =>
      checkTransportName(plugin, valid, context.transports, context.transportHint),
    ),
    (plugin, valid) => runValidator(context.validators.get(plugin.transport), plugin, valid),
  );
  // go-plugins declares endpoint and type without omitempty: Go writes "" when they are unset.
  return keyed(checked, ['endpoint', 'type']);
}

/**
 * Runs the transport's own checks once the fields they read are valid, so that their problems
 * are listed with all the others (and never run on a half-parsed value).
 */
function runValidator(
  validator: TransportValidator | undefined,
  plugin: PluginConfig,
  valid: (...path: PropertyKey[]) => boolean,
): Problem[] {
  if (validator?.validate === undefined || !valid('name') || !valid('transport')) return [];
  const ready = validator.validates ? validator.validates.every((field) => valid(field)) : valid();
  if (!ready) return [];
  try {
    return validator.validate(plugin).map((problem) => ({
      path: parsePath(problem.path),
      message: problem.message,
      code: problem.code ?? ErrorCode.InvalidConfig,
    }));
  } catch (error) {
    const reason = errorMessage(error);
    return [
      { path: [], message: `the "${plugin.transport}" transport's checks failed: ${reason}` },
    ];
  }
}
