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
