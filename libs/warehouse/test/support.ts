import { openStorage, type Storage } from '@tms/storage'
import { ensureTestDatabase, isolatedDatabaseUrl } from '@tms/testing'
import type { Test } from 'tap'
import { WAREHOUSE_COLLECTIONS } from '../src/collections.js'

/** A migrated schema of the test's own, and its URL (to reach it another way, e.g. through a proxy). */
export async function warehouseDatabase(t: Test): Promise<{ storage: Storage; url: string }> {
  await ensureTestDatabase()
  const url = isolatedDatabaseUrl(t)
  const storage = openStorage(url)
  t.teardown(() => storage.close())
  await storage.migrate(WAREHOUSE_COLLECTIONS)
  return { storage, url }
}

export async function warehouseStorage(t: Test): Promise<Storage> {
  return (await warehouseDatabase(t)).storage
}

export const address = { name: 'Ada Agent', street: 'Hafenstraße 1', city: 'Linz', postalCode: '4020', country: 'AT' }
