import { execFileSync } from 'node:child_process'
import { uniqueName } from '@tms/testing'
import { MongoClient } from 'mongodb'
import t from 'tap'
import { openStorage } from '../src/open-storage.js'
import { storageContract } from './contract.js'

const base = process.env.MONGODB_URL

t.test(
  'storage contract on MongoDB',
  { skip: base ? false : 'MONGODB_URL is not set (no MongoDB server on this machine); set it to run the same contract' },
  async (t) => {
    storageContract(t, (tt) => {
      const url = new URL(base!)
      url.pathname = `/${uniqueName('tms')}`
      tt.teardown(async () => {
        const client = new MongoClient(url.toString())
        await client.db().dropDatabase()
        await client.close()
      })
      return { open: () => openStorage(url.toString(), { applicationName: 'storage-test' }) }
    })
  },
)

t.test('without a server: a clear StorageUnavailableError, and close() still works', async (t) => {
  const storage = openStorage('mongodb://127.0.0.1:1/nowhere')
  t.equal(storage.kind, 'mongodb')
  await t.rejects(storage.ping(), { name: 'StorageUnavailableError', message: /database unavailable/ })
  await storage.close()
})

t.test('an instance on PostgreSQL never loads the MongoDB driver', async (t) => {
  // A process of its own: this test file has loaded the driver itself.
  const script = [
    "import { createRequire } from 'node:module'",
    "const { openStorage } = await import('@tms/storage')",
    "const storage = openStorage('postgres://postgres@127.0.0.1:5432/test')",
    'await storage.close()',
    'const loaded = Object.keys(createRequire(import.meta.url).cache)',
    "console.log(JSON.stringify({ pg: loaded.some((f) => f.includes('/node_modules/pg/')), mongodb: loaded.some((f) => f.includes('/node_modules/mongodb/')) }))",
  ].join('\n')
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  t.same(JSON.parse(output), { pg: true, mongodb: false }, 'pg loaded, mongodb not')
})
