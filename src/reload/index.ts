/**
 * Hot reload building blocks: what changed between two configs, and when a config file changed.
 * @module
 */
export { diffConfigs } from './diffConfigs.js';
export {
  diffModels,
  diffPlugin,
  isEmptyDiff,
  type ConfigDiff,
  type GroupUpdate,
  type GroupsDiff,
  type PluginUpdate,
} from './diff.js';
export { changedPaths } from './paths.js';
export { IN_PLACE_FIELDS, canApplyInPlace, updateMode, type UpdateMode } from './rules.js';
export { watchConfigFile, type WatchConfigOptions } from './watch.js';
