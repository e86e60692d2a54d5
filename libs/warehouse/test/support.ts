import { openStorage, type Storage } from '@tms/storage'
import { ensureTestDatabase, isolatedDatabaseUrl } from '@tms/testing'
import type { Test } from 'tap'
import { WAREHOUSE_COLLECTIONS } from '../src/collections.js'

export async function warehouseStorage(t: Test): Promise<Storage> {
  await ensureTestDatabase()
  const storage = openStorage(isolatedDatabaseUrl(t))
  t.teardown(() => storage.close())
  await storage.migrate(WAREHOUSE_COLLECTIONS)
  return storage
}

export const address = { name: 'Ada Agent', street: 'Hafenstraße 1', city: 'Linz', postalCode: '4020', country: 'AT' }
