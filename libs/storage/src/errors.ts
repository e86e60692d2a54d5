import { CodedError } from '@tms/errors'

/** A storage error names tables and fields: callers get a message of the API's own (expose false). */
export class StorageError extends CodedError {
  override name = 'StorageError'
  readonly code: string = 'STORAGE_ERROR'
  readonly statusCode: number = 500
  override readonly expose: boolean = false
}

export class DuplicateKeyError extends StorageError {
  override name = 'DuplicateKeyError'
  override readonly code = 'DUPLICATE_KEY'
  override readonly statusCode = 409
  constructor(
    readonly collection: string,
    readonly field: string,
  ) {
    super(`${collection}: a record with this ${field} already exists`)
  }
}

export class VersionConflictError extends StorageError {
  override name = 'VersionConflictError'
  override readonly code = 'VERSION_CONFLICT'
  override readonly statusCode = 409
  constructor(
    readonly collection: string,
    readonly id: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`${collection} ${id} was changed by someone else (version ${actualVersion}, expected ${expectedVersion})`)
  }
}

/** A fenced write from a lock holder (a claim) that another has since taken over. */
export class FencingTokenRejectedError extends StorageError {
  override name = 'FencingTokenRejectedError'
  override readonly code = 'FENCING_TOKEN_REJECTED'
  override readonly statusCode = 409
  constructor(
    readonly collection: string,
    readonly id: string,
    readonly token: number,
    readonly lastAccepted: number,
  ) {
    super(`${collection} ${id}: fencing token ${token} is older than ${lastAccepted}; a newer lock holder already wrote`)
  }
}

export class RecordNotFoundError extends StorageError {
  override name = 'RecordNotFoundError'
  override readonly code = 'RECORD_NOT_FOUND'
  override readonly statusCode = 404
  constructor(
    readonly collection: string,
    readonly id: string,
  ) {
    super(`${collection} ${id} does not exist`)
  }
}

export class UnsupportedSchemaVersionError extends StorageError {
  override name = 'UnsupportedSchemaVersionError'
  override readonly code = 'UNSUPPORTED_SCHEMA_VERSION'
  constructor(
    readonly collection: string,
    readonly id: string,
    readonly schemaVersion: number,
    readonly supported: number,
  ) {
    super(`${collection} ${id} has schema version ${schemaVersion}; this code reads ${supported - 1} and ${supported}`)
  }
}

/** A `find({ after })` cursor that no record of this storage ever gave: a client's tampering or typo. */
export class InvalidCursorError extends StorageError {
  override name = 'InvalidCursorError'
  override readonly code = 'INVALID_CURSOR'
  override readonly statusCode = 400
  override readonly expose = true
  constructor() {
    super('the cursor is not one this list gave out')
  }
}

/** The database could not be reached or did not answer in time: a 503, and worth retrying. */
export class StorageUnavailableError extends StorageError {
  override name = 'StorageUnavailableError'
  override readonly code = 'DATABASE_UNAVAILABLE'
  override readonly statusCode = 503
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
