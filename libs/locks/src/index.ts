export {
  HeldLimitError,
  LOCK_ERRORS,
  LockBusyError,
  LockError,
  type LockErrorCode,
  LockLostError,
  LockTimeoutError,
  NotLockHolderError,
  ObjectLockedError,
} from './errors.js'
export { FencedMutex, type LockKeys } from './fenced-mutex.js'
export { LockKeeper } from './lock-keeper.js'
export {
  type LockContext,
  type LockedAction,
  LockService,
  type LockServiceOptions,
  locksPrefix,
  type ObjectLock,
  type ObjectPattern,
} from './lock-service.js'
