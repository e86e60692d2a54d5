/**
 * The port every adapter implements. Records are versioned documents: `version` increments on
 * every write (optimistic concurrency), `schemaVersion` says which shape `data` has, and an
 * optional fencing token guards writes made under a distributed lock.
 */

export interface CollectionSpec<T> {
  /** Table or collection name: lower snake case. */
  name: string
  /** Shape version written by this code. Readers accept this one and the previous one. */
  schemaVersion: number
  /** Turns data written at `schemaVersion - 1` into the current shape. Identity when absent. */
  upgrade?: (previous: Record<string, unknown>) => T
  /** Top-level string fields that must be unique across the collection. */
  unique?: ReadonlyArray<keyof T & string>
  /** Top-level string fields used in `where` filters. */
  indexed?: ReadonlyArray<keyof T & string>
}

export interface Stored<T> {
  id: string
  version: number
  /** The shape version the record was written at (data is already upgraded to the current one). */
  schemaVersion: number
  /** Last fencing token accepted for this record, if any write was fenced. */
  fence: number | null
  createdAt: Date
  updatedAt: Date
  /** Where this record stands in creation order: `find({ after })` continues from it. Opaque. */
  cursor: string
  data: T
}

/** Equality filters on top-level string fields. */
/** Equality on top-level fields; `null` matches a field that is null or absent. */
/** Equality per field; null matches a missing value, undefined sets no condition (an optional filter). */
export type Where<T> = { [K in keyof T & string]?: string | null | undefined }

/**
 * Records whose id or one of `fields` (top-level string fields) contains `text`, whatever its
 * case: a search box over ids and labels, inside what `where` already narrowed (a batch's
 * devices), not a full-text index.
 */
export interface Search<T> {
  text: string
  fields: ReadonlyArray<(keyof T & string) | 'id'>
}

export interface FindOptions<T> {
  where?: Where<T> | undefined
  search?: Search<T> | undefined
  /** Oldest first (by creation) unless `newest`. */
  order?: 'oldest' | 'newest'
  limit?: number
  /**
   * A record's `cursor`: only records after it in the chosen order. Pages this way never skip or
   * repeat a record, however many share a creation instant. InvalidCursorError when malformed.
   */
  after?: string | undefined
}

export interface UpdateOptions {
  /**
   * Token of the lock the writer holds. The write is rejected when an equal-or-newer holder
   * already wrote with a higher token, so a paused holder cannot overwrite its successor.
   */
  fencingToken?: number
}

/** What migrations need from a collection, whatever its record type. */
export interface CollectionSchema {
  name: string
  unique?: ReadonlyArray<string>
  indexed?: ReadonlyArray<string>
}

export interface Storage {
  readonly kind: 'postgres' | 'mongodb'
  /** Creates what the collections need. Idempotent; safe when many instances start at once. */
  migrate(collections: ReadonlyArray<CollectionSchema>): Promise<void>
  /** Throws DuplicateKeyError when the id or a unique field already exists. */
  insert<T>(collection: CollectionSpec<T>, id: string, data: T): Promise<Stored<T>>
  /**
   * Inserts every record whose id and unique fields are free, in one round trip; the ids it
   * inserted. A record that conflicts (with a stored one, or an earlier one of the batch) is left
   * out, not an error: the caller looks at what is stored under it.
   */
  insertMany<T>(collection: CollectionSpec<T>, records: ReadonlyArray<{ id: string; data: T }>): Promise<Set<string>>
  get<T>(collection: CollectionSpec<T>, id: string): Promise<Stored<T> | null>
  /** The records of these ids that exist, by id, in one round trip. */
  getMany<T>(collection: CollectionSpec<T>, ids: ReadonlyArray<string>): Promise<Map<string, Stored<T>>>
  findOne<T>(collection: CollectionSpec<T>, where: Where<T>): Promise<Stored<T> | null>
  find<T>(collection: CollectionSpec<T>, options?: FindOptions<T>): Promise<Stored<T>[]>
  count<T>(collection: CollectionSpec<T>, where?: Where<T>, search?: Search<T>): Promise<number>
  /** The largest value of a numeric top-level field, or null when there is no record. */
  max<T>(collection: CollectionSpec<T>, field: keyof T & string): Promise<number | null>
  /** Record counts grouped by one indexed field, e.g. shipments per status. */
  countBy<T>(collection: CollectionSpec<T>, field: keyof T & string): Promise<Record<string, number>>
  /**
   * Writes `patch` over `current` if nobody wrote since `current` was read (same version),
   * and if the fencing token (when given) is not older than the last accepted one.
   * Throws VersionConflictError, FencingTokenRejectedError or RecordNotFoundError otherwise.
   */
  update<T>(collection: CollectionSpec<T>, current: Stored<T>, patch: Partial<T>, options?: UpdateOptions): Promise<Stored<T>>
  /**
   * `update` for many records in one round trip, without fencing: each patch is written if its
   * record is still at the version read. The number written; a record somebody wrote since is
   * left as it is, not an error (the caller reads it again if it cares).
   */
  updateMany<T>(collection: CollectionSpec<T>, writes: ReadonlyArray<{ current: Stored<T>; patch: Partial<T> }>): Promise<number>
  delete<T>(collection: CollectionSpec<T>, id: string): Promise<boolean>
  /** Resolves when the database answers; for readiness checks. */
  ping(): Promise<void>
  close(): Promise<void>
}
