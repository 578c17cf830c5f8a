// The continue token of a paginated list, as Kubernetes makes it: opaque to
// clients (base64 of JSON), naming the revision the first page was read at
// and the key the next page starts from.
import { InvalidContinueError } from './errors.ts';

export interface ContinueToken {
  /** The revision every page of the list is read at. */
  revision: number;
  /** The key the next page starts at. */
  start: string;
  /** Items sent in the pages before (for remainingItemCount). */
  offset: number;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'kcs.io/v1', rv: token.revision, start: token.start, offset: token.offset })).toString('base64url');
}

/** Throws InvalidContinueError unless text is a token for a list under prefix. */
export function decodeContinue(text: string, prefix: string): ContinueToken {
  let parsed: { v?: unknown; rv?: unknown; start?: unknown; offset?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidContinueError('continue key is not valid: not a token this server made');
  }
  const { v, rv, start, offset } = parsed ?? {};
  if (v !== 'kcs.io/v1' || !Number.isSafeInteger(rv) || (rv as number) < 0 || typeof start !== 'string' || !Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw new InvalidContinueError('continue key is not valid: not a token this server made');
  }
  if (!start.startsWith(prefix)) throw new InvalidContinueError('continue key is not valid: it is for another list');
  return { revision: rv as number, start, offset: offset as number };
}
