import type { PluginFactory } from '../types.js';
import { httpFactory } from './http/index.js';

/** The transports every manager knows unless told otherwise. */
export function builtinFactories(): PluginFactory[] {
  return [httpFactory];
}
