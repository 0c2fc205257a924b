/**
 * The gRPC methods plugwire calls and serves, as grpc-js method definitions built on the
 * hand-written message codecs. The host's client and the SDK's server share them, so both
 * sides always agree on paths and encodings.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import {
  decodeExecuteRequest,
  decodeExecuteResponse,
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  decodeInfoRequest,
  decodeInfoResponse,
  encodeExecuteRequest,
  encodeExecuteResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  encodeInfoRequest,
  encodeInfoResponse,
} from './messages.js';
import type {
  ExecuteRequestMessage,
  ExecuteResponseMessage,
  HealthCheckRequestMessage,
  HealthCheckResponseMessage,
  InfoResponseMessage,
} from './messages.js';

/** Fully-qualified name of the plugin service in `proto/plugin.proto`. */
export const PLUGIN_SERVICE = 'plugwire.v1.Plugin';
/** Fully-qualified name of the standard health service. */
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

export const executeMethod: MethodDefinition<ExecuteRequestMessage, ExecuteResponseMessage> = {
  path: `/${PLUGIN_SERVICE}/Execute`,
  originalName: 'execute',
  requestStream: false,
  responseStream: false,
  requestSerialize: encodeExecuteRequest,
  requestDeserialize: decodeExecuteRequest,
  responseSerialize: encodeExecuteResponse,
  responseDeserialize: decodeExecuteResponse,
};

export const infoMethod: MethodDefinition<Record<string, never>, InfoResponseMessage> = {
  path: `/${PLUGIN_SERVICE}/Info`,
  originalName: 'info',
  requestStream: false,
  responseStream: false,
  requestSerialize: encodeInfoRequest,
  requestDeserialize: decodeInfoRequest,
  responseSerialize: encodeInfoResponse,
  responseDeserialize: decodeInfoResponse,
};

export const healthCheckMethod: MethodDefinition<
  HealthCheckRequestMessage,
  HealthCheckResponseMessage
> = {
  path: `/${HEALTH_SERVICE}/Check`,
  originalName: 'check',
  requestStream: false,
  responseStream: false,
  requestSerialize: encodeHealthCheckRequest,
  requestDeserialize: decodeHealthCheckRequest,
  responseSerialize: encodeHealthCheckResponse,
  responseDeserialize: decodeHealthCheckResponse,
};

/** `plugwire.v1.Plugin` for `server.addService`. */
export const pluginServiceDefinition: ServiceDefinition = {
  Execute: executeMethod,
  Info: infoMethod,
};

/**
 * `grpc.health.v1.Health` with `Check` only: `Watch` and `List` answer UNIMPLEMENTED, which the
 * health protocol allows (clients then fall back to polling `Check`).
 */
export const healthServiceDefinition: ServiceDefinition = {
  Check: healthCheckMethod,
};
