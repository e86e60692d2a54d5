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
