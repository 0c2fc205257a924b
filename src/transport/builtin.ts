import type { PluginFactory } from '../types.js';
// The factories alone: http and grpc import their packages (undici, grpc-js) only when prepared.
import { execFactory } from './exec/factory.js';
import { grpcFactory } from './grpc/factory.js';
import { httpFactory } from './http/factory.js';
import { unixFactory } from './unix/factory.js';

/** The transports every manager knows unless told otherwise. */
export function builtinFactories(): PluginFactory[] {
  return [httpFactory, grpcFactory, unixFactory, execFactory];
}
