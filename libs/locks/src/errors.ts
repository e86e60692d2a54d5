export class LockError extends Error {
  override name = 'LockError'
}

/** Waited `timeoutMs` for the lock without getting it. */
export class LockTimeoutError extends LockError {
  override name = 'LockTimeoutError'
  constructor(
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(`gave up waiting for lock ${key} after ${timeoutMs} ms`)
  }
}

/** The lock expired, was deleted, or could not be confirmed in time: the action must not go on. */
export class LockLostError extends LockError {
  override name = 'LockLostError'
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`lost lock ${key}: ${reason}`)
  }
}

/** A service lock is held: the operation is already running somewhere in the cluster. */
export class LockBusyError extends LockError {
  override name = 'LockBusyError'
  constructor(readonly key: string) {
    super(`${key} is already running`)
  }
}

/** An object lock is held by someone else. */
export class ObjectLockedError extends LockError {
  override name = 'ObjectLockedError'
  constructor(
    readonly key: string,
    readonly holder: string,
    readonly expiresAt: Date,
  ) {
    super(`${key} is held by ${holder} until ${expiresAt.toISOString()}`)
  }
}

/** The caller does not hold the object lock (it expired, was released, or is someone else's). */
export class NotLockHolderError extends LockError {
  override name = 'NotLockHolderError'
  constructor(
    readonly key: string,
    readonly caller: string,
  ) {
    super(`${caller} does not hold ${key}`)
  }
}
