// What the cache refuses, in its own terms; the registry turns each into the
// Kubernetes Status a client expects (410 Expired, 504 Timeout, 400).

export class CacheError extends Error {
  override name = 'CacheError';
}

/** A resourceVersion or continue token older than what the cache still holds: list again. */
export class ExpiredError extends CacheError {
  override name = 'ExpiredError';
}

/** A resourceVersion the cache did not reach in time (newer than anything written). */
export class TooLargeResourceVersionError extends CacheError {
  override name = 'TooLargeResourceVersionError';
  constructor(requested: number, current: number) {
    super(`Too large resource version: ${requested}, current: ${current}`);
  }
}

/** A continue token that does not parse, or is for another list. */
export class InvalidContinueError extends CacheError {
  override name = 'InvalidContinueError';
}
