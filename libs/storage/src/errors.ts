export class StorageError extends Error {
  override name = 'StorageError'
}

export class DuplicateKeyError extends StorageError {
  override name = 'DuplicateKeyError'
  constructor(
    readonly collection: string,
    readonly field: string,
  ) {
    super(`${collection}: a record with this ${field} already exists`)
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
    super(`${collection} ${id} was changed by someone else (version ${actualVersion}, expected ${expectedVersion})`)
  }
}

export class FencingTokenRejectedError extends StorageError {
  override name = 'FencingTokenRejectedError'
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
  constructor(
    readonly collection: string,
    readonly id: string,
  ) {
    super(`${collection} ${id} does not exist`)
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
    super(`${collection} ${id} has schema version ${schemaVersion}; this code reads ${supported - 1} and ${supported}`)
  }
}

/** The database could not be reached or did not answer in time: a 503, and worth retrying. */
export class StorageUnavailableError extends StorageError {
  override name = 'StorageUnavailableError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
