import { ErrorCode } from '../errors.js';

/**
 * How a call or an attempt ended, as metrics and traces label it. A small closed set, so that it
 * can be a metric label: the error code says the rest.
 */
export type Outcome = 'success' | 'failure' | 'timeout' | 'application_error' | 'aborted';

/**
 * The outcome an error code stands for: the plugin's own "no", the deadline, the caller or the
 * manager ending the call, or else a failure (transport, breaker, rate limit, …).
 */
export function outcomeOfCode(code: string): Exclude<Outcome, 'success'> {
  switch (code) {
    case ErrorCode.ApplicationError:
      return 'application_error';
    case ErrorCode.PluginTimeout:
      return 'timeout';
    case ErrorCode.CallAborted:
    case ErrorCode.ManagerClosed:
      return 'aborted';
    default:
      return 'failure';
  }
}
