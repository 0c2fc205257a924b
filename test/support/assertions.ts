import assert from 'node:assert/strict';
import { isPluginError, type PluginError } from '../../src/errors.js';

/** Awaits a promise that must reject with a PluginError, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<PluginError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isPluginError(error), `expected a PluginError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to reject');
}
