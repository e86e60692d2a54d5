import { setTimeout as sleep } from 'node:timers/promises'
import { connectRedis, createRedis } from '@tms/redis'
import type { Storage } from '@tms/storage'
import { isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import type { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { shipments as shipmentRecords } from '../src/collections.js'
import { ShipmentCounts } from '../src/shipment-counts.js'
import { ShipmentRequests } from '../src/shipment-requests.js'
import { Shipments } from '../src/shipments.js'
import { address, warehouseStorage } from './support.js'

async function redisFor(t: Test): Promise<Redis> {
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'counts-test' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  return redis
}

async function submit(storage: Storage, from: number, count: number): Promise<void> {
  const requests = new ShipmentRequests(storage)
  for (let i = from; i < from + count; i++) {
    await requests.submit({ orderId: `o-${i}`, items: [{ sku: 'TRACKER-4G', quantity: 1 }], address })
  }
}

/** What the database says, counted the slow way. */
async function truth(storage: Storage) {
  const counts = await storage.countBy(shipmentRecords, 'status')
  return { PENDING: counts.PENDING ?? 0, PACKED: counts.PACKED ?? 0, SHIPPED: counts.SHIPPED ?? 0 }
}

const agent = { id: 'agent-1', name: 'Ada' }

t.test('counts are read from the database once, then kept by every move, on two instances', async (t) => {
  const storage = await warehouseStorage(t)
  const prefix = isolatedRedisPrefix(t)
  const instances = [
    new ShipmentCounts({ redis: await redisFor(t), prefix }),
    new ShipmentCounts({ redis: await redisFor(t), prefix }),
  ]
  const [a, b] = instances.map((counts) => new Shipments(storage, { counts })) as [Shipments, Shipments]
  await submit(storage, 0, 20)
  await a.createInBulk()
  t.same(await a.countByStatus(), { PENDING: 20, PACKED: 0, SHIPPED: 0 })

  let scans = 0
  const counting = async () => {
    scans++
    return truth(storage)
  }
  const ids = (await a.list({ status: 'PENDING', limit: 20 })).map((s) => s.id)
  // Fifty parallel moves, half on each instance: twenty packs, ten of them shipped right after.
  await Promise.all(
    ids.map(async (id, i) => {
      const on = i % 2 ? a : b
      await on.pack(id, agent)
      if (i < 10) await on.ship(id, `TRK-${i}`, { id: agent.id, mayShipAny: false })
    }),
  )
  await submit(storage, 100, 5)
  await b.createInBulk()
  t.same(await instances[1]!.read(counting), { PENDING: 5, PACKED: 10, SHIPPED: 10 })
  t.same(await truth(storage), { PENDING: 5, PACKED: 10, SHIPPED: 10 }, 'as the database says')
  t.equal(scans, 0, 'without reading the database again')
})

t.test('counts read while a move happens are not stored: the next reader reads the database again', async (t) => {
  const counts = new ShipmentCounts({ redis: await redisFor(t), prefix: isolatedRedisPrefix(t) })
  let scans = 0
  const first = await counts.read(async () => {
    scans++
    // A pack on another instance lands between this read of the database and the store.
    await counts.moved('PENDING', 'PACKED')
    return { PENDING: 7, PACKED: 0, SHIPPED: 0 }
  })
  t.same(first, { PENDING: 7, PACKED: 0, SHIPPED: 0 }, 'the reader gets what it read')
  const second = await counts.read(async () => {
    scans++
    return { PENDING: 6, PACKED: 1, SHIPPED: 0 }
  })
  t.same(second, { PENDING: 6, PACKED: 1, SHIPPED: 0 })
  t.equal(scans, 2, 'the first answer was not kept')
  t.same(await counts.read(async () => t.fail('stored now') as never), { PENDING: 6, PACKED: 1, SHIPPED: 0 })
})

t.test('counts that went wrong (a move that never reached Redis) are right again after their lifetime', async (t) => {
  const storage = await warehouseStorage(t)
  const redis = await redisFor(t)
  const counts = new ShipmentCounts({ redis, prefix: isolatedRedisPrefix(t), ttlMs: 400 })
  await submit(storage, 0, 3)
  const shipments = new Shipments(storage, { counts })
  await shipments.createInBulk()
  t.same(await shipments.countByStatus(), { PENDING: 3, PACKED: 0, SHIPPED: 0 })
  // An instance killed between its write and its count: the database moved, the counts did not.
  const [id] = (await shipments.list({ status: 'PENDING', limit: 1 })).map((s) => s.id)
  await new Shipments(storage).pack(id!, agent)
  t.same(await shipments.countByStatus(), { PENDING: 3, PACKED: 0, SHIPPED: 0 }, 'wrong for now')
  await sleep(600)
  t.same(await shipments.countByStatus(), { PENDING: 2, PACKED: 1, SHIPPED: 0 }, 'right after the lifetime')
})
