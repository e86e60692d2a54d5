import { createHash } from 'node:crypto'
import pg from 'pg'
import { DuplicateKeyError, InvalidCursorError, StorageUnavailableError } from './errors.js'
import { COLUMNS, isTimestampText, type Row, whereClause, whereConditions } from './postgres-sql.js'
import { assertName, clampLimit, decodeCursor, decodeData, encodeCursor, planWrite, rejectedUpdate } from './records.js'
import type { CollectionSchema, CollectionSpec, FindOptions, Search, Storage, Stored, UpdateOptions, Where } from './storage.js'

export interface PostgresStorageOptions {
  /** postgres://user@host:port/db, optionally `?schema=name` to keep a test's tables apart. */
  url: string
  applicationName?: string
  poolSize?: number
  /** Longest a single statement may run before the database cancels it. */
  statementTimeoutMs?: number
  onError?: (error: Error) => void
}

/** What error translation needs to know about a collection. */
type SpecInfo = Pick<CollectionSchema, 'name' | 'unique'>

/** SQLSTATEs of a time the database cannot read (bad format, field out of range, zone out of range). */
const BAD_TIME_CODES = new Set(['22007', '22008', '22009'])
/** SQLSTATE classes that mean "could not talk to the database", not "the statement was wrong". */
const UNAVAILABLE_CODES = /^(08|57P0[1-3]|53300)/

export class PostgresStorage implements Storage {
  readonly kind = 'postgres'
  readonly #pool: pg.Pool
  readonly #database: string
  readonly #schema: string
  readonly #adminUrl: string
  #databaseEnsured = false
  readonly #statementNames = new Map<string, string>()

  constructor(options: PostgresStorageOptions) {
    const url = new URL(options.url)
    this.#schema = assertName('schema', url.searchParams.get('schema') ?? 'public')
    url.searchParams.delete('schema')
    this.#database = decodeURIComponent(url.pathname.slice(1)) || 'postgres'
    const admin = new URL(url)
    admin.pathname = '/postgres'
    this.#adminUrl = admin.toString()
    this.#pool = new pg.Pool({
      connectionString: url.toString(),
      application_name: options.applicationName ?? 'tms',
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      options: `-c search_path=${this.#schema}`,
    })
    // Idle clients that lose their connection emit here; without a listener the process would crash.
    this.#pool.on('error', (error) => options.onError?.(error))
  }

  async migrate(collections: ReadonlyArray<CollectionSchema>): Promise<void> {
    await this.#ensureDatabase()
    const ddl = this.#schemaDdl(collections)
    const client = await this.#connect()
    try {
      // Every instance boots through here, most often into a schema that is already complete.
      // CREATE INDEX IF NOT EXISTS takes a SHARE lock on its table before it finds the index there,
      // which stalls every write for as long as the migration transaction runs; so look first.
      const { rows } = await client.query<{ missing: number }>(
        'SELECT count(*)::int AS missing FROM unnest($1::text[]) AS relation WHERE to_regclass(relation) IS NULL',
        [ddl.map((d) => `${this.#schema}.${d.relation}`)],
      )
      if (rows[0]?.missing === 0) return
      await client.query('BEGIN')
      // One instance migrates at a time; the others wait here and then find everything in place.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tms:migrate:${this.#schema}`])
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`)
      for (const { statement } of ddl) await client.query(statement)
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw this.#translate(error, null)
    } finally {
      client.release()
    }
  }

  /** The tables and indexes the collections need, each with the statement that creates it. */
  #schemaDdl(collections: ReadonlyArray<CollectionSchema>): { relation: string; statement: string }[] {
    return collections.flatMap((spec) => {
      const table = assertName('collection', spec.name)
      const indexName = (field: string) => `${table}_${assertName('field', field.toLowerCase())}`
      return [
        {
          relation: table,
          statement: `CREATE TABLE IF NOT EXISTS ${table} (
          id text PRIMARY KEY,
          version integer NOT NULL,
          schema_version integer NOT NULL,
          fence bigint,
          created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          data jsonb NOT NULL
        )`,
        },
        {
          relation: `${table}_created_idx`,
          statement: `CREATE INDEX IF NOT EXISTS ${table}_created_idx ON ${table} (created_at, id)`,
        },
        ...(spec.unique ?? []).map((field) => ({
          relation: `${indexName(field)}_key`,
          statement: `CREATE UNIQUE INDEX IF NOT EXISTS ${indexName(field)}_key ON ${table} ((data->>'${field}'))`,
        })),
        ...(spec.indexed ?? []).map((field) => ({
          relation: `${indexName(field)}_idx`,
          statement: `CREATE INDEX IF NOT EXISTS ${indexName(field)}_idx ON ${table} ((data->>'${field}'), created_at, id)`,
        })),
      ]
    })
  }

  async insert<T>(spec: CollectionSpec<T>, id: string, data: T): Promise<Stored<T>> {
    const { rows } = await this.#query<Row>(
      spec,
      `INSERT INTO ${spec.name} (id, version, schema_version, data) VALUES ($1, 1, $2, $3) RETURNING ${COLUMNS}`,
      [id, spec.schemaVersion, JSON.stringify(data)],
    )
    return this.#decode(spec, rows[0]!)
  }

  async insertMany<T>(spec: CollectionSpec<T>, records: ReadonlyArray<{ id: string; data: T }>): Promise<Set<string>> {
    if (records.length === 0) return new Set()
    // DO NOTHING without a target: any unique index (id or a unique field) leaves the row out.
    const { rows } = await this.#query<{ id: string }>(
      spec,
      `INSERT INTO ${spec.name} (id, version, schema_version, data)
       SELECT id, 1, $3, data FROM unnest($1::text[], $2::jsonb[]) AS r(id, data)
       ON CONFLICT DO NOTHING RETURNING id`,
      [records.map((r) => r.id), records.map((r) => JSON.stringify(r.data)), spec.schemaVersion],
    )
    return new Set(rows.map((row) => row.id))
  }

  async get<T>(spec: CollectionSpec<T>, id: string): Promise<Stored<T> | null> {
    const { rows } = await this.#query<Row>(spec, `SELECT ${COLUMNS} FROM ${spec.name} WHERE id = $1`, [id])
    return rows[0] ? this.#decode(spec, rows[0]) : null
  }

  async getMany<T>(spec: CollectionSpec<T>, ids: ReadonlyArray<string>): Promise<Map<string, Stored<T>>> {
    if (ids.length === 0) return new Map()
    const { rows } = await this.#query<Row>(spec, `SELECT ${COLUMNS} FROM ${spec.name} WHERE id = ANY($1::text[])`, [ids])
    return new Map(rows.map((row) => [row.id, this.#decode(spec, row)]))
  }

  async findOne<T>(spec: CollectionSpec<T>, where: Where<T>): Promise<Stored<T> | null> {
    const [first] = await this.find(spec, { where, limit: 1 })
    return first ?? null
  }

  async find<T>(spec: CollectionSpec<T>, options: FindOptions<T> = {}): Promise<Stored<T>[]> {
    const { conditions, params } = whereConditions(options.where, options.search)
    const direction = options.order === 'newest' ? 'DESC' : 'ASC'
    if (options.after !== undefined) {
      const [createdText, id] = decodeCursor(options.after)
      if (!isTimestampText(createdText)) throw new InvalidCursorError()
      params.push(createdText, id)
      conditions.push(
        `(created_at, id) ${direction === 'ASC' ? '>' : '<'} ($${params.length - 1}::timestamptz, $${params.length})`,
      )
    }
    const clause = conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''
    params.push(clampLimit(options.limit))
    try {
      const { rows } = await this.#query<Row>(
        spec,
        `SELECT ${COLUMNS} FROM ${spec.name} ${clause} ORDER BY created_at ${direction}, id ${direction} LIMIT $${params.length}`,
        params,
      )
      return rows.map((row) => this.#decode(spec, row))
    } catch (error) {
      // A time the check above let through and the database cannot read: still the client's cursor.
      if (options.after !== undefined && BAD_TIME_CODES.has((error as { code?: string }).code ?? '')) {
        throw new InvalidCursorError()
      }
      throw error
    }
  }

  async count<T>(spec: CollectionSpec<T>, where?: Where<T>, search?: Search<T>): Promise<number> {
    const { clause, params } = whereClause(where, search)
    const { rows } = await this.#query<{ n: string }>(spec, `SELECT count(*) AS n FROM ${spec.name} ${clause}`, params)
    return Number(rows[0]?.n ?? 0)
  }

  async max<T>(spec: CollectionSpec<T>, field: keyof T & string): Promise<number | null> {
    assertName('field', field.toLowerCase())
    const { rows } = await this.#query<{ n: string | null }>(spec, `SELECT max((data->>$1)::numeric) AS n FROM ${spec.name}`, [
      field,
    ])
    return rows[0]?.n === null || rows[0]?.n === undefined ? null : Number(rows[0].n)
  }

  async countBy<T>(spec: CollectionSpec<T>, field: keyof T & string): Promise<Record<string, number>> {
    const { rows } = await this.#query<{ key: string | null; n: string }>(
      spec,
      `SELECT data->>$1 AS key, count(*) AS n FROM ${spec.name} GROUP BY 1`,
      [field],
    )
    return Object.fromEntries(rows.map((row) => [row.key ?? '', Number(row.n)]))
  }

  async update<T>(spec: CollectionSpec<T>, current: Stored<T>, patch: Partial<T>, options?: UpdateOptions): Promise<Stored<T>> {
    const write = planWrite(spec, current, patch)
    const token = options?.fencingToken ?? null
    const { rows } = await this.#query<Row>(
      spec,
      `UPDATE ${spec.name}
          SET data = CASE WHEN $3 THEN $4::jsonb ELSE data || $4::jsonb END,
              schema_version = $5,
              version = version + 1,
              fence = COALESCE($6::bigint, fence),
              updated_at = clock_timestamp()
        WHERE id = $1 AND version = $2 AND ($6::bigint IS NULL OR fence IS NULL OR fence <= $6::bigint)
        RETURNING ${COLUMNS}`,
      [current.id, current.version, write.replace, JSON.stringify(write.data), write.schemaVersion, token],
    )
    if (rows[0]) return this.#decode(spec, rows[0])
    return this.#explainRejectedUpdate(spec, current, token)
  }

  async updateMany<T>(
    spec: CollectionSpec<T>,
    writes: ReadonlyArray<{ current: Stored<T>; patch: Partial<T> }>,
  ): Promise<number> {
    if (writes.length === 0) return 0
    const plans = writes.map(({ current, patch }) => planWrite(spec, current, patch))
    const { rowCount } = await this.#query(
      spec,
      `UPDATE ${spec.name} AS t
          SET data = CASE WHEN w.replace THEN w.data ELSE t.data || w.data END,
              schema_version = w.schema_version,
              version = t.version + 1,
              updated_at = clock_timestamp()
         FROM unnest($1::text[], $2::int[], $3::boolean[], $4::jsonb[], $5::int[])
              AS w(id, version, replace, data, schema_version)
        WHERE t.id = w.id AND t.version = w.version`,
      [
        writes.map((w) => w.current.id),
        writes.map((w) => w.current.version),
        plans.map((p) => p.replace),
        plans.map((p) => JSON.stringify(p.data)),
        plans.map((p) => p.schemaVersion),
      ],
    )
    return rowCount ?? 0
  }

  async delete<T>(spec: CollectionSpec<T>, id: string): Promise<boolean> {
    const { rowCount } = await this.#query(spec, `DELETE FROM ${spec.name} WHERE id = $1`, [id])
    return (rowCount ?? 0) > 0
  }

  async ping(): Promise<void> {
    await this.#query(null, 'SELECT 1', [])
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }

  async #explainRejectedUpdate<T>(spec: CollectionSpec<T>, current: Stored<T>, token: number | null): Promise<never> {
    const { rows } = await this.#query<{ version: number; fence: string | null }>(
      spec,
      `SELECT version, fence FROM ${spec.name} WHERE id = $1`,
      [current.id],
    )
    const row = rows[0]
    const now = row ? { version: row.version, fence: row.fence === null ? null : Number(row.fence) } : null
    return rejectedUpdate(spec.name, current, token, now)
  }

  #decode<T>(spec: CollectionSpec<T>, row: Row): Stored<T> {
    return {
      id: row.id,
      version: row.version,
      schemaVersion: row.schema_version,
      fence: row.fence === null ? null : Number(row.fence),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      cursor: encodeCursor([row.created_text, row.id]),
      data: decodeData(spec, row.id, row.schema_version, row.data),
    }
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect()
    } catch (error) {
      throw this.#translate(error, null)
    }
  }

  /**
   * A named (prepared) statement: each pooled connection parses and plans it once, then only binds
   * and runs it. The statements are few and fixed (their texts vary only with collection and filter).
   */
  async #query<R extends pg.QueryResultRow>(spec: SpecInfo | null, sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    let name = this.#statementNames.get(sql)
    if (!name) {
      name = `tms_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`
      this.#statementNames.set(sql, name)
    }
    try {
      return await this.#pool.query<R>({ name, text: sql, values: params })
    } catch (error) {
      throw this.#translate(error, spec)
    }
  }

  #translate(error: unknown, spec: SpecInfo | null): Error {
    const e = error as Error & { code?: string; constraint?: string }
    const context = spec?.name ?? 'database'
    if (e.code === '23505' && spec) {
      const field =
        e.constraint === `${spec.name}_pkey`
          ? 'id'
          : (spec.unique?.find((f) => e.constraint === `${spec.name}_${f.toLowerCase()}_key`) ?? 'key')
      return new DuplicateKeyError(spec.name, field)
    }
    const sqlState = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)
    if (!sqlState || UNAVAILABLE_CODES.test(e.code ?? '')) {
      return new StorageUnavailableError(`database unavailable (${context}): ${e.message}`, { cause: error })
    }
    return e
  }

  /** The configured database is created when it does not exist yet (and several instances may try at once). */
  async #ensureDatabase(): Promise<void> {
    if (this.#databaseEnsured) return
    try {
      const client = await this.#pool.connect()
      client.release()
    } catch (error) {
      if ((error as { code?: string }).code !== '3D000') throw this.#translate(error, null)
      const admin = new pg.Client({ connectionString: this.#adminUrl, connectionTimeoutMillis: 3000 })
      await admin.connect()
      try {
        await admin.query(`CREATE DATABASE "${this.#database.replaceAll('"', '""')}"`)
      } catch (createError) {
        const code = (createError as { code?: string }).code
        // 42P04: created meanwhile by another instance; 23505: lost the same race inside the catalog.
        if (code !== '42P04' && code !== '23505') throw createError
      } finally {
        await admin.end()
      }
    }
    this.#databaseEnsured = true
  }
}
