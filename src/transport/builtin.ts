import type { PluginFactory } from '../types.js';
import { execFactory } from './exec/index.js';
import { grpcFactory } from './grpc/index.js';
import { httpFactory } from './http/index.js';
import { unixFactory } from './unix/index.js';

/** The transports every manager knows unless told otherwise. */
export function builtinFactories(): PluginFactory[] {
  return [httpFactory, grpcFactory, unixFactory, execFactory];
}
