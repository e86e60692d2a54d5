import { ensureTestDatabase, isolatedDatabaseUrl, sqlClient, TEST_DATABASE_URL, uniqueName } from '@tms/testing'
import pg from 'pg'
import t from 'tap'
import { StorageUnavailableError } from '../src/errors.js'
import { openStorage } from '../src/open-storage.js'
import { storageContract } from './contract.js'

await ensureTestDatabase()

t.test('storage contract on PostgreSQL', async (t) => {
  storageContract(t, (tt) => {
    const url = isolatedDatabaseUrl(tt)
    return { open: () => openStorage(url, { applicationName: 'storage-test' }) }
  })
})

t.test('the database is created when it does not exist yet, even by several instances at once', async (t) => {
  const name = uniqueName('tms_db')
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  t.teardown(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL.replace(/\/[^/]+$/, '/postgres') })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await admin.end()
  })
  const instances = Array.from({ length: 3 }, () => openStorage(url.toString()))
  await Promise.all(instances.map((s) => s.migrate([{ name: 'things' }])))
  await Promise.all(instances.map((s) => s.close()))
  const check = await sqlClient(t, url.toString())
  const { rows } = await check.query(`SELECT to_regclass('public.things') AS t`)
  t.equal(rows[0].t, 'things')
})

t.test('an unreachable database is a StorageUnavailableError, not a hang', async (t) => {
  const storage = openStorage('postgres://postgres@127.0.0.1:1/nowhere')
  t.teardown(() => storage.close())
  await t.rejects(storage.ping(), StorageUnavailableError)
})

t.test('booting into a complete schema takes no lock that waits for writes in flight', async (t) => {
  const url = isolatedDatabaseUrl(t)
  const schema = new URL(url).searchParams.get('schema')
  const things = { name: 'things', unique: ['serial'], indexed: ['status'] }
  const first = openStorage(url)
  t.teardown(() => first.close())
  await first.migrate([things])

  // A write in flight on another connection: it holds ROW EXCLUSIVE on the table until it commits.
  const writer = await sqlClient(t, TEST_DATABASE_URL)
  await writer.query('BEGIN')
  await writer.query(
    `INSERT INTO ${schema}.things (id, version, schema_version, data) VALUES ('a', 1, 1, '{"serial":"s1","status":"new"}')`,
  )
  // CREATE INDEX IF NOT EXISTS would queue behind that lock (and stall every later write);
  // this migrate can only return while the writer is still open if it takes no such lock.
  const booting = openStorage(url)
  t.teardown(() => booting.close())
  await booting.migrate([things])
  await writer.query('COMMIT')
  const { rows } = await writer.query(`SELECT count(*)::int AS n FROM ${schema}.things`)
  t.equal(rows[0].n, 1)
})
