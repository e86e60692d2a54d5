import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'

/** Something like `t_m3k9x2_a1b2c3`: lower case, safe as a schema name and inside Redis keys. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
}

/** Drops a schema and all in it; nothing happens when the database cannot be reached (nothing to clean then). */
export async function dropSchema(base: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: base })
  try {
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } catch {
    // The database may not exist if its user never got that far.
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Deletes every key matching `pattern` (SCAN, then UNLINK in batches). */
export async function deleteKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
  } catch {
    // Redis may be the thing that stopped; nothing to clean then.
  } finally {
    redis.disconnect()
  }
}
