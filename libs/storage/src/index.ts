export {
  DuplicateKeyError,
  FencingTokenRejectedError,
  InvalidCursorError,
  RecordNotFoundError,
  STORAGE_ERRORS,
  StorageError,
  type StorageErrorCode,
  StorageUnavailableError,
  UnsupportedSchemaVersionError,
  VersionConflictError,
} from './errors.js'
export { MongoStorage, type MongoStorageOptions } from './mongodb-storage.js'
export { type OpenStorageOptions, openStorage } from './open-storage.js'
export { PostgresStorage, type PostgresStorageOptions } from './postgres-storage.js'
export type { CollectionSchema, CollectionSpec, FindOptions, Search, Storage, Stored, UpdateOptions, Where } from './storage.js'
