import { createCaches } from '@tms/cache'
import { LockService } from '@tms/locks'
import { connectRedis, createRedis } from '@tms/redis'
import type { Storage } from '@tms/storage'
import { isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t, { type Test } from 'tap'
import { Catalogue } from '../src/catalogue.js'
import { devices } from '../src/collections.js'
import { type DeviceInput, Devices, REGISTERED_BY_ANOTHER_PARTNER } from '../src/devices.js'
import { WarehouseError } from '../src/errors.js'
import { RefurbishmentBatches } from '../src/refurbishment-batches.js'
import { warehouseStorage } from './support.js'

const TG5 = { modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE' } as const
const ada = { id: 'agent-ada', name: 'ada@test.local' }
const bob = { id: 'agent-bob', name: 'bob@test.local' }

/**
 * The real storage, with every call of the port counted: what a request costs in round trips
 * to the database, read off the calls it makes.
 */
function counted(storage: Storage) {
  const calls = new Map<string, number>()
  const proxy = new Proxy(storage, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const key = `${String(name)} ${(args[0] as { name?: string } | undefined)?.name ?? ''}`.trim()
        calls.set(key, (calls.get(key) ?? 0) + 1)
        return value.apply(target, args)
      }
    },
  })
  return { storage: proxy, calls, reset: () => calls.clear() }
}

async function warehouse(t: Test) {
  const real = await warehouseStorage(t)
  await Catalogue.seed(real)
  const { storage, calls, reset } = counted(real)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'batches-test' })
  const subscriber = createRedis(TEST_REDIS_URL, { connectionName: 'batches-test-bus', role: 'subscriber' })
  await connectRedis(redis)
  const prefix = isolatedRedisPrefix(t)
  const noop = () => {}
  const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger }
  const caches = createCaches({ redis, subscriber, prefix, schemaVersion: 1, logger })
  t.teardown(async () => {
    await caches.close()
    redis.disconnect()
    subscriber.disconnect()
  })
  const catalogue = new Catalogue(storage, caches.memory)
  const locks = new LockService({ redis, prefix: `${prefix}lock:` })
  return {
    storage,
    calls,
    reset,
    devices: new Devices(storage, catalogue),
    batches: new RefurbishmentBatches(storage, catalogue, locks, { claimTtlMs: 60_000, maxClaimsPerAgent: 3 }),
  }
}

const box = (masterboxId: string, count: number, from = 0): DeviceInput[] =>
  Array.from({ length: count }, (_, i) => ({
    deviceId: `${masterboxId}-D${String(from + i).padStart(5, '0')}`,
    ...TG5,
    innerboxId: `${masterboxId}-IB${Math.floor((from + i) / 10)}`,
    masterboxId,
  }))

t.test('registering 1,000 taken ids reads them back in one round trip', async (t) => {
  const { devices: registry, calls, reset } = await warehouse(t)
  const thousand = box('MB-A', 1000)
  t.match(await registry.register('partner-a', thousand), { registered: 1000 })
  reset()
  t.match(await registry.register('partner-a', thousand), { registered: 0, alreadyKnown: 1000, rejected: [] })
  t.equal(calls.get('get devices') ?? 0, 0, 'not one read per device')
  t.equal(calls.get('getMany devices'), 1, 'one read for all of them')
})

t.test("another partner's device ids answer one generic rejection, whatever was sent", async (t) => {
  const { devices: registry } = await warehouse(t)
  const device = { deviceId: 'TG5-00042', ...TG5, innerboxId: 'IB-SECRET', masterboxId: 'MB-SECRET' }
  await registry.register('partner-a', [device])
  const same = await registry.register('partner-b', [device])
  const other = await registry.register('partner-b', [{ ...device, innerboxId: 'IB-GUESS', masterboxId: 'MB-GUESS' }])
  for (const answer of [same, other]) {
    t.same(answer, {
      registered: 0,
      alreadyKnown: 0,
      rejected: [{ index: 0, deviceId: 'TG5-00042', message: REGISTERED_BY_ANOTHER_PARTNER }],
    })
  }
  t.notMatch(JSON.stringify([same, other]), /SECRET/, "nothing of partner A's device is told")
  const own = await registry.register('partner-a', [{ ...device, innerboxId: 'IB-OTHER' }])
  t.match(own.rejected, [{ message: /already registered with another innerboxId \(IB-SECRET\)/ }], 'its own partner is told')
})

t.test('a masterbox id of two partners is never scanned into one batch: the scan names them and asks', async (t) => {
  const { devices: registry, batches } = await warehouse(t)
  await registry.register('partner-a', box('MB-SHARED', 3))
  await registry.register('partner-b', box('MB-SHARED', 2, 100))
  const batch = await batches.create({ description: 'shared box', ...TG5 }, ada)
  const refused = await batches.addDevices(batch.id, { masterboxId: 'MB-SHARED' }, ada).catch((e: unknown) => e)
  t.ok(refused instanceof WarehouseError)
  t.match(refused, {
    code: 'AMBIGUOUS_MASTERBOX',
    message: /masterbox MB-SHARED holds devices of 2 partners: partner-a \(3\), partner-b \(2\)/,
    details: [
      { field: 'body.registeredBy', message: 'partner-a: partner-a, 3 devices' },
      { field: 'body.registeredBy', message: 'partner-b: partner-b, 2 devices' },
    ],
  })
  t.equal((await batches.get(batch.id)).deviceCount, 0, 'nothing was added')
  t.match(await batches.addDevices(batch.id, { masterboxId: 'MB-SHARED', registeredBy: 'partner-b' }, ada), {
    added: 2,
    rejected: [],
  })
  const listed = await batches.devices(batch.id, { limit: 10 })
  t.same(
    listed.items.map((d) => d.deviceId),
    ['MB-SHARED-D00100', 'MB-SHARED-D00101'],
    "only the named partner's devices",
  )
})

t.test('adding 1,000 devices that are in other batches reads those batches in one round trip', async (t) => {
  const { devices: registry, batches, calls, reset } = await warehouse(t)
  await registry.register('partner-a', box('MB-X', 1000))
  const ids = box('MB-X', 1000).map((d) => d.deviceId)
  const elsewhere = await Promise.all([1, 2, 3, 4].map((n) => batches.create({ description: `other ${n}`, ...TG5 }, ada)))
  for (const [i, other] of elsewhere.entries()) {
    await batches.addDevices(other.id, { deviceIds: ids.slice(i * 250, (i + 1) * 250) }, ada)
  }
  const batch = await batches.create({ description: 'late', ...TG5 }, ada)
  reset()
  const result = await batches.addDevices(batch.id, { deviceIds: ids }, ada)
  t.equal(result.added, 0)
  t.equal(result.rejected.length, 1000)
  t.match(result.rejected[0], { message: `already in batch #${elsewhere[0]!.number}` })
  t.equal(calls.get('get refurbishment_batches'), 2, 'the batch itself (read, and read again to recount): none per device')
  t.equal(calls.get('getMany refurbishment_batches'), 1, 'the other batches, in one read')
})

t.test('a batch of 6,000 devices (more than the old cap of 5,000) fills, pages, searches and ships', async (t) => {
  t.setTimeout(240_000)
  const { devices: registry, batches, storage } = await warehouse(t)
  const batch = await batches.create({ description: 'big', ...TG5 }, ada)
  for (let i = 0; i < 6; i++) {
    await registry.register('partner-a', box(`MB-${i}`, 1000))
    t.match(await batches.addDevices(batch.id, { masterboxId: `MB-${i}` }, ada), { added: 1000, rejected: [] })
  }
  t.equal((await batches.get(batch.id)).deviceCount, 6000)
  const seen: string[] = []
  let after: string | undefined
  for (;;) {
    const page = await batches.devices(batch.id, { limit: 200, ...(after ? { after } : {}) })
    t.equal(page.total, 6000)
    seen.push(...page.items.map((d) => d.deviceId))
    if (!page.nextCursor) break
    after = page.nextCursor
  }
  t.equal(seen.length, 6000, 'every device once, in 30 pages')
  t.equal(new Set(seen).size, 6000)
  const found = await batches.devices(batch.id, { q: 'mb-5-d0099', limit: 50 })
  t.same(
    found.items.map((d) => d.deviceId),
    Array.from({ length: 10 }, (_, i) => `MB-5-D0099${i}`),
    'a search finds by part of an id, any case',
  )
  t.equal(found.total, 10)
  const byInnerbox = await batches.devices(batch.id, { q: 'MB-2-IB42', limit: 50 })
  t.equal(byInnerbox.total, 10, 'or by its innerbox id')

  await batches.pack(batch.id, ada)
  const shipped = await batches.ship(batch.id, 'AT-BIG-0001', { ...ada, mayShipAny: false })
  t.equal(shipped.status, 'SHIPPED')
  t.equal(await storage.count(devices, { batchId: batch.id, status: 'SHIPPED' }), 6000, 'every device shipped, in pages')
})

t.test('a packed batch ships by its packer or an operator, no other agent', async (t) => {
  const { devices: registry, batches } = await warehouse(t)
  await registry.register('partner-a', box('MB-P', 2))
  const batch = await batches.create({ description: 'p', ...TG5 }, ada)
  await batches.addDevices(batch.id, { masterboxId: 'MB-P' }, ada)
  await batches.pack(batch.id, ada)
  const refused = await batches.ship(batch.id, 'AT-0001', { ...bob, mayShipAny: false }).catch((e: unknown) => e)
  t.match(refused, { code: 'PACKED_BY_ANOTHER', message: /packed by ada@test.local/ })
  t.equal((await batches.get(batch.id)).status, 'PACKED', 'nothing changed')
  t.equal((await batches.ship(batch.id, 'AT-0001', { ...bob, mayShipAny: true })).status, 'SHIPPED', 'an operator may')
})

t.test('batch claims count with shipment claims: one agent holds at most the limit of both', async (t) => {
  const { batches } = await warehouse(t)
  const all = await Promise.all(Array.from({ length: 10 }, (_, i) => batches.create({ description: `b${i}`, ...TG5 }, ada)))
  const outcomes = await Promise.allSettled(all.map((b) => batches.claim(b.id, ada)))
  t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 3, 'three of ten at once')
  t.ok(
    outcomes.every((o) => o.status === 'fulfilled' || (o.reason as WarehouseError).code === 'TOO_MANY_CLAIMS'),
    'the others: TOO_MANY_CLAIMS',
  )
})
