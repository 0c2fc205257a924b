/**
 * The plugin logic every example serves, whatever the transport: one handler function.
 * It upper-cases, reverses or counts words, and answers "no" (an application error) to empty text.
 */
import { applicationError, type HandlerContext } from '../../src/sdk/index.js';

export interface TextRequest {
  op: 'upper' | 'reverse' | 'words';
  text: string;
}

export interface TextResponse {
  result: string | number;
  servedBy: string;
}

export function textTools(servedBy: string) {
  return async (request: TextRequest, ctx: HandlerContext): Promise<TextResponse> => {
    if (!request.text) throw applicationError('text must not be empty');
    if (ctx.signal.aborted) throw new Error('deadline passed');
    switch (request.op) {
      case 'upper':
        return { result: request.text.toUpperCase(), servedBy };
      case 'reverse':
        return { result: [...request.text].reverse().join(''), servedBy };
      case 'words':
        return { result: request.text.split(/\s+/).filter(Boolean).length, servedBy };
      default:
        throw applicationError(`unknown op '${String(request.op)}'`);
    }
  };
}
