import type { Collection, Document, Filter, MongoClient } from 'mongodb'
import { DuplicateKeyError, InvalidCursorError, StorageUnavailableError } from './errors.js'
import { assertName, clampLimit, decodeCursor, decodeData, encodeCursor, planWrite, rejectedUpdate } from './records.js'
import type { CollectionSchema, CollectionSpec, FindOptions, Search, Storage, Stored, UpdateOptions, Where } from './storage.js'

export interface MongoStorageOptions {
  /** mongodb://host:port/database — the database is created on first write, as MongoDB does. */
  url: string
  applicationName?: string | undefined
  /** Longest a single operation may run. */
  operationTimeoutMs?: number
}

interface RecordDocument {
  _id: string
  version: number
  schemaVersion: number
  fence: number | null
  createdAt: Date
  updatedAt: Date
  data: Record<string, unknown>
}

type SpecInfo = Pick<CollectionSchema, 'name' | 'unique'>

/**
 * The driver loads when a MongoStorage is made, not when this module is, so an instance on
 * PostgreSQL never pays for it: about 0.1 s of CPU at every boot of every instance, in the
 * middle of a rolling deploy.
 */
type Driver = typeof import('mongodb')

export class MongoStorage implements Storage {
  readonly kind = 'mongodb'
  readonly #client: Promise<MongoClient>
  #driver: Driver | undefined
  #connected: Promise<MongoClient> | undefined

  constructor(options: MongoStorageOptions) {
    this.#client = import('mongodb').then((driver) => {
      this.#driver = driver
      return new driver.MongoClient(options.url, {
        appName: options.applicationName ?? 'tms',
        serverSelectionTimeoutMS: 3000,
        connectTimeoutMS: 3000,
        timeoutMS: options.operationTimeoutMs ?? 10_000,
      })
    })
    // Its failure reaches whoever uses the storage first (connect, close), not the process.
    this.#client.catch(() => undefined)
  }

  async migrate(collections: ReadonlyArray<CollectionSchema>): Promise<void> {
    // createIndex with an identical spec is a no-op, so concurrent instances converge safely.
    for (const spec of collections) {
      const coll = await this.#collection(spec)
      await this.#run(spec, async () => {
        await coll.createIndex({ createdAt: 1, _id: 1 }, { name: 'created_idx' })
        for (const field of spec.unique ?? []) {
          await coll.createIndex({ [`data.${field}`]: 1 }, { name: `${field}_key`, unique: true })
        }
        for (const field of spec.indexed ?? []) {
          await coll.createIndex({ [`data.${field}`]: 1, createdAt: 1, _id: 1 }, { name: `${field}_idx` })
        }
      })
    }
  }

  async insert<T>(spec: CollectionSpec<T>, id: string, data: T): Promise<Stored<T>> {
    const coll = await this.#collection(spec)
    const doc = newDocument(spec, id, data, new Date())
    await this.#run(spec, () => coll.insertOne(doc))
    return this.#decode(spec, doc)
  }

  async insertMany<T>(spec: CollectionSpec<T>, records: ReadonlyArray<{ id: string; data: T }>): Promise<Set<string>> {
    if (records.length === 0) return new Set()
    const coll = await this.#collection(spec)
    const now = new Date()
    const docs = records.map(({ id, data }) => newDocument(spec, id, data, now))
    try {
      // Unordered: a duplicate stops only itself; every other document is still written.
      await coll.insertMany(docs, { ordered: false })
      return new Set(records.map((r) => r.id))
    } catch (error) {
      const BulkWriteError = this.#driver?.MongoBulkWriteError
      if (BulkWriteError && error instanceof BulkWriteError) {
        const failures = [error.writeErrors].flat()
        if (failures.length > 0 && failures.every((f) => f.code === 11000)) {
          const failed = new Set(failures.map((f) => f.index))
          return new Set(records.filter((_, index) => !failed.has(index)).map((r) => r.id))
        }
      }
      // Anything else fails the whole call, translated as every other operation's errors are.
      return this.#run(spec, () => Promise.reject(error))
    }
  }

  async get<T>(spec: CollectionSpec<T>, id: string): Promise<Stored<T> | null> {
    const coll = await this.#collection(spec)
    const doc = await this.#run(spec, () => coll.findOne({ _id: id }))
    return doc ? this.#decode(spec, doc) : null
  }

  async getMany<T>(spec: CollectionSpec<T>, ids: ReadonlyArray<string>): Promise<Map<string, Stored<T>>> {
    if (ids.length === 0) return new Map()
    const coll = await this.#collection(spec)
    const docs = await this.#run(spec, () => coll.find({ _id: { $in: [...ids] } }).toArray())
    return new Map(docs.map((doc) => [doc._id, this.#decode(spec, doc)]))
  }

  async findOne<T>(spec: CollectionSpec<T>, where: Where<T>): Promise<Stored<T> | null> {
    const [first] = await this.find(spec, { where, limit: 1 })
    return first ?? null
  }

  async find<T>(spec: CollectionSpec<T>, options: FindOptions<T> = {}): Promise<Stored<T>[]> {
    const coll = await this.#collection(spec)
    const direction = options.order === 'newest' ? -1 : 1
    const filter = filterOf(options.where, options.search)
    if (options.after !== undefined) {
      const [createdMs, id] = decodeCursor(options.after)
      const createdAt = new Date(Number(createdMs))
      if (!/^\d{1,16}$/.test(createdMs) || Number.isNaN(createdAt.getTime())) throw new InvalidCursorError()
      const beyond = direction === 1 ? '$gt' : '$lt'
      // Beside a search's own $or: both must hold.
      filter.$and = [
        ...(filter.$and ?? []),
        { $or: [{ createdAt: { [beyond]: createdAt } }, { createdAt, _id: { [beyond]: id } }] },
      ]
    }
    const docs = await this.#run(spec, () =>
      coll.find(filter).sort({ createdAt: direction, _id: direction }).limit(clampLimit(options.limit)).toArray(),
    )
    return docs.map((doc) => this.#decode(spec, doc))
  }

  async count<T>(spec: CollectionSpec<T>, where?: Where<T>, search?: Search<T>): Promise<number> {
    const coll = await this.#collection(spec)
    return this.#run(spec, () => coll.countDocuments(filterOf(where, search)))
  }

  async max<T>(spec: CollectionSpec<T>, field: keyof T & string): Promise<number | null> {
    assertName('field', field.toLowerCase())
    const coll = await this.#collection(spec)
    const [top] = await this.#run(spec, () =>
      coll
        .find({ [`data.${field}`]: { $type: 'number' } })
        .sort({ [`data.${field}`]: -1 })
        .limit(1)
        .toArray(),
    )
    return top ? Number(top.data[field]) : null
  }

  async countBy<T>(spec: CollectionSpec<T>, field: keyof T & string): Promise<Record<string, number>> {
    const coll = await this.#collection(spec)
    const groups = await this.#run(spec, () =>
      coll.aggregate<{ _id: string | null; n: number }>([{ $group: { _id: `$data.${field}`, n: { $sum: 1 } } }]).toArray(),
    )
    return Object.fromEntries(groups.map((g) => [g._id ?? '', g.n]))
  }

  async update<T>(spec: CollectionSpec<T>, current: Stored<T>, patch: Partial<T>, options?: UpdateOptions): Promise<Stored<T>> {
    const coll = await this.#collection(spec)
    const write = planWrite(spec, current, patch)
    const token = options?.fencingToken ?? null
    const filter: Filter<RecordDocument> = { _id: current.id, version: current.version }
    if (token !== null) filter.$or = [{ fence: null }, { fence: { $lte: token } }]
    const set: Document = { schemaVersion: write.schemaVersion, updatedAt: new Date() }
    if (write.replace) set.data = write.data
    else for (const [key, value] of Object.entries(write.data)) set[`data.${key}`] = value ?? null
    if (token !== null) set.fence = token
    const updated = await this.#run(spec, () =>
      coll.findOneAndUpdate(filter, { $set: set, $inc: { version: 1 } }, { returnDocument: 'after' }),
    )
    if (updated) return this.#decode(spec, updated)
    const found = await this.#run(spec, () => coll.findOne({ _id: current.id }, { projection: { version: 1, fence: 1 } }))
    return rejectedUpdate(spec.name, current, token, found && { version: found.version, fence: found.fence })
  }

  async updateMany<T>(
    spec: CollectionSpec<T>,
    writes: ReadonlyArray<{ current: Stored<T>; patch: Partial<T> }>,
  ): Promise<number> {
    if (writes.length === 0) return 0
    const coll = await this.#collection(spec)
    const now = new Date()
    const operations = writes.map(({ current, patch }) => {
      const write = planWrite(spec, current, patch)
      const set: Document = { schemaVersion: write.schemaVersion, updatedAt: now }
      if (write.replace) set.data = write.data
      else for (const [key, value] of Object.entries(write.data)) set[`data.${key}`] = value ?? null
      return {
        updateOne: { filter: { _id: current.id, version: current.version }, update: { $set: set, $inc: { version: 1 } } },
      }
    })
    const result = await this.#run(spec, () => coll.bulkWrite(operations, { ordered: false }))
    return result.modifiedCount
  }

  async delete<T>(spec: CollectionSpec<T>, id: string): Promise<boolean> {
    const coll = await this.#collection(spec)
    const result = await this.#run(spec, () => coll.deleteOne({ _id: id }))
    return result.deletedCount > 0
  }

  async ping(): Promise<void> {
    const client = await this.#connect()
    await this.#run(null, () => client.db().command({ ping: 1 }))
  }

  async close(): Promise<void> {
    await (await this.#client).close()
  }

  #decode<T>(spec: CollectionSpec<T>, doc: RecordDocument): Stored<T> {
    return {
      id: doc._id,
      version: doc.version,
      schemaVersion: doc.schemaVersion,
      fence: doc.fence ?? null,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
      cursor: encodeCursor([String(doc.createdAt.getTime()), doc._id]),
      data: decodeData(spec, doc._id, doc.schemaVersion, doc.data),
    }
  }

  async #connect(): Promise<MongoClient> {
    this.#connected ??= this.#client
      .then((client) => client.connect())
      .catch((error: unknown) => {
        this.#connected = undefined
        throw new StorageUnavailableError(`database unavailable: ${(error as Error).message}`, { cause: error })
      })
    return this.#connected
  }

  async #collection(spec: SpecInfo): Promise<Collection<RecordDocument>> {
    const client = await this.#connect()
    return client.db().collection<RecordDocument>(assertName('collection', spec.name))
  }

  async #run<R>(spec: SpecInfo | null, operation: () => Promise<R>): Promise<R> {
    try {
      return await operation()
    } catch (error) {
      // Loaded: an operation ran on a client.
      const MongoServerError = this.#driver?.MongoServerError
      if (MongoServerError && error instanceof MongoServerError && error.code === 11000) {
        const keys = Object.keys((error.keyValue as Record<string, unknown> | undefined) ?? {})
        const field = keys[0] === '_id' ? 'id' : (keys[0]?.replace(/^data\./, '') ?? 'key')
        throw new DuplicateKeyError(spec?.name ?? 'database', field)
      }
      if (MongoServerError && error instanceof MongoServerError) throw error
      throw new StorageUnavailableError(`database unavailable (${spec?.name ?? 'database'}): ${(error as Error).message}`, {
        cause: error,
      })
    }
  }
}

/** A record as first written: version 1, at the spec's shape version, unfenced. */
function newDocument<T>(spec: CollectionSpec<T>, id: string, data: T, now: Date): RecordDocument {
  return {
    _id: id,
    version: 1,
    schemaVersion: spec.schemaVersion,
    fence: null,
    createdAt: now,
    updatedAt: now,
    data: data as Record<string, unknown>,
  }
}

function filterOf(
  where: Record<string, string | null | undefined> | undefined,
  search?: { text: string; fields: ReadonlyArray<string> },
): Filter<RecordDocument> {
  const filter: Document = {}
  for (const [field, value] of Object.entries(where ?? {})) {
    if (value === undefined) continue
    assertName('field', field.toLowerCase())
    // { field: null } matches null and absent alike, as IS NULL does in PostgreSQL.
    filter[`data.${field}`] = value
  }
  if (search && search.fields.length > 0) {
    // The text as a regular expression that means only itself.
    const contains = { $regex: search.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' }
    const or = search.fields.map((field) => {
      if (field === 'id') return { _id: contains }
      assertName('field', field.toLowerCase())
      return { [`data.${field}`]: contains }
    })
    filter.$and = [{ $or: or }]
  }
  return filter as Filter<RecordDocument>
}
