/** The message of anything thrown: an Error's `message`, anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Anything thrown, as an Error (the value itself when it is one). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
