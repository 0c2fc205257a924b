import type { Logger } from '../types.js';

const noop = (): void => {};

/** The default logger: says nothing. `console` and pino loggers can be passed as they are. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
