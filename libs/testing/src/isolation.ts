import { deleteKeys, dropSchema, uniqueName } from '@tms/sandbox'
import pg from 'pg'

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** Tests share one database and each takes its own schema in it. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tms_test'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A PostgreSQL URL with a schema of its own, dropped when the test ends. */
export function isolatedDatabaseUrl(t: Teardown, base = TEST_DATABASE_URL): string {
  const schema = uniqueName('t')
  const url = new URL(base)
  url.searchParams.set('schema', schema)
  t.teardown(() => dropSchema(base, schema))
  return url.toString()
}

async function ensureDatabase(base: string): Promise<void> {
  const url = new URL(base)
  const name = url.pathname.slice(1)
  url.pathname = '/postgres'
  const admin = new pg.Client({ connectionString: url.toString() })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code !== '42P04' && code !== '23505') throw error
  } finally {
    await admin.end()
  }
}

/** A raw SQL client on a test's schema, for checking what was (not) written. */
export async function sqlClient(t: Teardown, url: string): Promise<pg.Client> {
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'public'
  parsed.searchParams.delete('schema')
  await ensureDatabase(parsed.toString())
  const client = new pg.Client({ connectionString: parsed.toString(), options: `-c search_path=${schema}` })
  await client.connect()
  t.teardown(() => client.end())
  return client
}

/** A Redis key prefix of the test's own; its keys are deleted when the test ends. */
export function isolatedRedisPrefix(t: Teardown, url = TEST_REDIS_URL): string {
  const prefix = `test:${uniqueName('r')}:`
  t.teardown(() => deleteKeys(url, `${prefix}*`))
  return prefix
}

/** Prepares the shared test database once; isolatedDatabaseUrl schemas live in it. */
export async function ensureTestDatabase(base = TEST_DATABASE_URL): Promise<void> {
  await ensureDatabase(base)
}
