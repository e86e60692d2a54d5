import { defineErrors, TabledError } from '@tms/errors'

const UNEXPECTED = 'an unexpected error occurred; it has been logged'

/**
 * Every refusal of the storage port. Their messages name tables and fields: callers read the
 * public message instead (but for a cursor, which is the caller's own).
 */
export const STORAGE_ERRORS = defineErrors({
  /** Any other failure of the storage itself: ours, logged. */
  STORAGE_ERROR: { status: 500, publicMessage: UNEXPECTED },
  /** The id or a unique field is taken. */
  DUPLICATE_KEY: { status: 409, publicMessage: 'a record with this key already exists' },
  /** Written by someone else since it was read. */
  VERSION_CONFLICT: { status: 409, publicMessage: 'it was changed by someone else meanwhile; reload it and try again' },
  /** A lock holder's write after a newer holder wrote. */
  FENCING_TOKEN_REJECTED: { status: 409, publicMessage: 'your claim was taken over meanwhile; nothing was changed' },
  RECORD_NOT_FOUND: { status: 404, publicMessage: 'it does not exist (any more)' },
  /** A record in a shape this version cannot read (written by a far newer release). */
  UNSUPPORTED_SCHEMA_VERSION: { status: 500, publicMessage: UNEXPECTED },
  /** A list's cursor that the list never gave out. */
  INVALID_CURSOR: { status: 400 },
  /** The database could not be reached or did not answer in time. */
  DATABASE_UNAVAILABLE: { status: 503, publicMessage: 'the database is unavailable; try again shortly' },
})

export type StorageErrorCode = keyof typeof STORAGE_ERRORS

/** The family; the classes below carry what each refusal is about, for the code that catches it. */
export class StorageError extends TabledError<StorageErrorCode> {
  override name = 'StorageError'
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, STORAGE_ERRORS, message, options)
  }
}

export class DuplicateKeyError extends StorageError {
  override name = 'DuplicateKeyError'
  constructor(
    readonly collection: string,
    readonly field: string,
  ) {
    super('DUPLICATE_KEY', `${collection}: a record with this ${field} already exists`)
  }
}

export class VersionConflictError extends StorageError {
  override name = 'VersionConflictError'
  constructor(
    readonly collection: string,
    readonly id: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      'VERSION_CONFLICT',
      `${collection} ${id} was changed by someone else (version ${actualVersion}, expected ${expectedVersion})`,
    )
  }
}

/** A fenced write from a lock holder (a claim) that another has since taken over. */
export class FencingTokenRejectedError extends StorageError {
  override name = 'FencingTokenRejectedError'
  constructor(
    readonly collection: string,
    readonly id: string,
    readonly token: number,
    readonly lastAccepted: number,
  ) {
    super(
      'FENCING_TOKEN_REJECTED',
      `${collection} ${id}: fencing token ${token} is older than ${lastAccepted}; a newer lock holder already wrote`,
    )
  }
}

export class RecordNotFoundError extends StorageError {
  override name = 'RecordNotFoundError'
  constructor(
    readonly collection: string,
    readonly id: string,
  ) {
    super('RECORD_NOT_FOUND', `${collection} ${id} does not exist`)
  }
}

export class UnsupportedSchemaVersionError extends StorageError {
  override name = 'UnsupportedSchemaVersionError'
  constructor(
    readonly collection: string,
    readonly id: string,
    readonly schemaVersion: number,
    readonly supported: number,
  ) {
    super(
      'UNSUPPORTED_SCHEMA_VERSION',
      `${collection} ${id} has schema version ${schemaVersion}; this code reads ${supported - 1} and ${supported}`,
    )
  }
}

/** A `find({ after })` cursor that no record of this storage ever gave: a client's tampering or typo. */
export class InvalidCursorError extends StorageError {
  override name = 'InvalidCursorError'
  constructor() {
    super('INVALID_CURSOR', 'the cursor is not one this list gave out')
  }
}

/** The database could not be reached or did not answer in time: a 503, and worth retrying. */
export class StorageUnavailableError extends StorageError {
  override name = 'StorageUnavailableError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATABASE_UNAVAILABLE', message, options)
  }
}
