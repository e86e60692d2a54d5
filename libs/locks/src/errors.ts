import { CodedError } from '@tms/errors'

/** Lock messages name keys and holders: callers get a message of the API's own unless a class says otherwise. */
export class LockError extends CodedError {
  override name = 'LockError'
  readonly code: string = 'LOCK_ERROR'
  readonly statusCode: number = 500
  override readonly expose: boolean = false
}

/** Waited `timeoutMs` for the lock without getting it. */
export class LockTimeoutError extends LockError {
  override name = 'LockTimeoutError'
  override readonly code = 'LOCK_TIMEOUT'
  override readonly statusCode = 503
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
  override readonly code = 'LOCK_LOST'
  override readonly statusCode = 503
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
  override readonly code = 'ALREADY_RUNNING'
  override readonly statusCode = 409
  /** "create-shipments is already running": the operation's name, nothing inside. */
  override readonly expose = true
  constructor(readonly key: string) {
    super(`${key} is already running`)
  }
}

/** An object lock is held by someone else. */
export class ObjectLockedError extends LockError {
  override name = 'ObjectLockedError'
  override readonly code = 'OBJECT_LOCKED'
  override readonly statusCode = 409
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
  override readonly code = 'NOT_LOCK_HOLDER'
  override readonly statusCode = 409
  constructor(
    readonly key: string,
    readonly caller: string,
  ) {
    super(`${caller} does not hold ${key}`)
  }
}

/** The holder holds as many object locks of the pattern as it may: it must release one first. */
export class HeldLimitError extends LockError {
  override name = 'HeldLimitError'
  override readonly code = 'HELD_LIMIT'
  override readonly statusCode = 409
  constructor(
    readonly key: string,
    readonly holder: string,
    readonly held: number,
  ) {
    super(`${holder} holds ${held} locks like ${key} already, the most allowed`)
  }
}
