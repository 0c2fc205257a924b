// Compile-time proofs, checked by `npm run typecheck` (tsc over src and test): what the config
// schemas parse is exactly the plain model of src/config/types.ts, so the public types never
// drift from what `parseConfig()` returns. They live here, not beside the schemas, so that they
// never reach dist: a consumer's compiler (other settings, another zod) must not evaluate them.
import type { z } from 'zod';
import type { clusterSchema } from '../../src/config/cluster-schema.js';
import type { discoverySchema } from '../../src/config/discovery-schema.js';
import type { managerSchema } from '../../src/config/manager-schema.js';
import type { pluginSchema } from '../../src/config/plugin-schema.js';
import type { policySchema } from '../../src/config/policy-schema.js';
import type {
  ClusterConfig,
  DiscoveryConfig,
  ManagerConfig,
  PluginConfig,
  PolicyConfig,
} from '../../src/config/types.js';

/** `true` when A and B are the same type (optional keys and `readonly` included). */
type Exactly<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when given `true`: turns {@link Exactly} into a compile-time proof. */
type Assert<T extends true> = T;

export type Proofs = [
  // A parsed `defaults` section is exactly the model's PolicyConfig.
  Assert<Exactly<z.output<ReturnType<typeof policySchema>>, PolicyConfig>>,
  // A parsed plugin is exactly the model's PluginConfig.
  Assert<Exactly<z.output<ReturnType<typeof pluginSchema>>, PluginConfig>>,
  // A parsed config is exactly the model's ManagerConfig.
  Assert<Exactly<z.output<ReturnType<typeof managerSchema>>, ManagerConfig>>,
  // A parsed `cluster` section is exactly the model's ClusterConfig.
  Assert<Exactly<Exclude<z.output<ReturnType<typeof clusterSchema>>, undefined>, ClusterConfig>>,
  // A parsed `discovery` section is exactly the model's DiscoveryConfig.
  Assert<Exactly<z.output<ReturnType<typeof discoverySchema>>, DiscoveryConfig>>,
];
