import { defineErrors, TabledError } from '@tms/errors'

/** Every refusal of the locks. Their messages name keys and holders: callers read the public message. */
export const LOCK_ERRORS = defineErrors({
  LOCK_ERROR: { status: 500, publicMessage: 'an unexpected error occurred; it has been logged' },
  /** Waited its longest for the lock. */
  LOCK_TIMEOUT: { status: 503, publicMessage: 'the resource is busy; try again shortly' },
  /** The lock expired, was deleted, or could not be confirmed in time: the action stopped. */
  LOCK_LOST: { status: 503, publicMessage: 'the operation lost its lock and was stopped; try again' },
  /** A service lock is held: the operation is already running ("create-shipments is already running"). */
  ALREADY_RUNNING: { status: 409 },
  /** An object lock is held by someone else. */
  OBJECT_LOCKED: { status: 409, publicMessage: 'someone else holds it; try again later' },
  /** The caller does not hold the object lock (it expired, was released, or is someone else's). */
  NOT_LOCK_HOLDER: { status: 409, publicMessage: 'you do not hold it (any more)' },
  /** The holder holds as many object locks of the pattern as it may. */
  HELD_LIMIT: { status: 409, publicMessage: 'you hold as many as one may; release one first' },
})

export type LockErrorCode = keyof typeof LOCK_ERRORS

export class LockError extends TabledError<LockErrorCode> {
  override name = 'LockError'
  constructor(code: LockErrorCode, message: string) {
    super(code, LOCK_ERRORS, message)
  }
}

/** Waited `timeoutMs` for the lock without getting it. */
export class LockTimeoutError extends LockError {
  override name = 'LockTimeoutError'
  constructor(
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super('LOCK_TIMEOUT', `gave up waiting for lock ${key} after ${timeoutMs} ms`)
  }
}

/** The lock expired, was deleted, or could not be confirmed in time: the action must not go on. */
export class LockLostError extends LockError {
  override name = 'LockLostError'
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super('LOCK_LOST', `lost lock ${key}: ${reason}`)
  }
}

/** A service lock is held: the operation is already running somewhere in the cluster. */
export class LockBusyError extends LockError {
  override name = 'LockBusyError'
  constructor(readonly key: string) {
    super('ALREADY_RUNNING', `${key} is already running`)
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
    super('OBJECT_LOCKED', `${key} is held by ${holder} until ${expiresAt.toISOString()}`)
  }
}

/** The caller does not hold the object lock (it expired, was released, or is someone else's). */
export class NotLockHolderError extends LockError {
  override name = 'NotLockHolderError'
  constructor(
    readonly key: string,
    readonly caller: string,
  ) {
    super('NOT_LOCK_HOLDER', `${caller} does not hold ${key}`)
  }
}

/** The holder holds as many object locks of the pattern as it may: it must release one first. */
export class HeldLimitError extends LockError {
  override name = 'HeldLimitError'
  constructor(
    readonly key: string,
    readonly holder: string,
    readonly held: number,
  ) {
    super('HELD_LIMIT', `${holder} holds ${held} locks like ${key} already, the most allowed`)
  }
}
