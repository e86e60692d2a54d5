import { setTimeout as sleep } from 'node:timers/promises'
import { LockService } from '@tms/locks'
import { connectRedis, createRedis } from '@tms/redis'
import { openStorage, type Storage } from '@tms/storage'
import { isolatedRedisPrefix, startTcpProxy, TEST_REDIS_URL } from '@tms/testing'
import type { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { shipments as shipmentRecords } from '../src/collections.js'
import { WarehouseError } from '../src/errors.js'
import { PackingClaims, releaseStaleClaims, SHIPMENT_CLAIM } from '../src/packing-claims.js'
import { ShipmentRequests } from '../src/shipment-requests.js'
import { Shipments } from '../src/shipments.js'
import { address, warehouseDatabase, warehouseStorage } from './support.js'

const OPTIONS = { ttlMs: 60_000, maxClaimsPerAgent: 3 }

/** `count` pending shipments in a fresh schema. */
async function pendingShipments(storage: Storage, count: number): Promise<string[]> {
  const requests = new ShipmentRequests(storage)
  for (let i = 0; i < count; i++) {
    await requests.submit({ orderId: `o-${i}`, items: [{ sku: 'TRACKER-4G', quantity: 1 }], address })
  }
  const shipments = new Shipments(storage)
  await shipments.createForReadyRequests()
  return (await shipments.list({ status: 'PENDING', limit: count })).map((s) => s.id)
}

/** A Redis connection and a LockService on the test's own prefix: one "instance". */
async function lockService(t: Test, prefix: string, url = TEST_REDIS_URL): Promise<{ locks: LockService; redis: Redis }> {
  const redis = createRedis(url, { connectionName: 'claims-test' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  return { locks: new LockService({ redis, prefix }), redis }
}

t.test('a claim never succeeds on a shipment another agent packed meanwhile', async (t) => {
  const storage = await warehouseStorage(t)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'claims-test' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  const locks = new LockService({ redis, prefix: isolatedRedisPrefix(t) })
  await new ShipmentRequests(storage).submit({ orderId: 'o-race', items: [{ sku: 'TRACKER-4G', quantity: 1 }], address })
  const shipments = new Shipments(storage)
  await shipments.createForReadyRequests()
  const [shipment] = await shipments.list({ status: 'PENDING' })
  const ada = { id: 'agent-ada', name: 'Ada' }
  const bob = { id: 'agent-bob', name: 'Bob' }
  const adasClaims = new PackingClaims(locks, shipments, OPTIONS)
  await adasClaims.claim(shipment!.id, ada)

  // Bob's reads of the shipment let Ada pack it right after they return (once): the slowest
  // interleaving for whoever read the status before taking the claim.
  let adaPacked = false
  const bobsView = new (class extends Shipments {
    override async get(id: string) {
      const seen = await super.get(id)
      if (!adaPacked) {
        adaPacked = true
        await adasClaims.pack(id, ada)
      }
      return seen
    }
  })(storage)
  const bobsClaims = new PackingClaims(locks, bobsView, OPTIONS)
  const outcome = await bobsClaims.claim(shipment!.id, bob).then(
    () => 'claimed',
    (error: unknown) => error,
  )
  t.type(outcome, WarehouseError, 'a conflict, not a claim')
  t.equal((outcome as WarehouseError).code, 'CLAIMED_BY_ANOTHER', "refused: Ada's claim still held when Bob tries")
  t.not((await locks.getObjectLock(SHIPMENT_CLAIM, shipment!.id))?.holder, bob.id, 'Bob holds no claim on it')
})

t.test('fifty parallel claims by one agent on two instances: exactly the limit is held', async (t) => {
  const storage = await warehouseStorage(t)
  const ids = await pendingShipments(storage, 10)
  const prefix = isolatedRedisPrefix(t)
  const shipments = new Shipments(storage)
  const instances = [await lockService(t, prefix), await lockService(t, prefix)].map(
    ({ locks }) => new PackingClaims(locks, shipments, OPTIONS),
  )
  const ada = { id: 'agent-ada', name: 'Ada' }
  const outcomes = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => instances[i % 2]!.claim(ids[i % ids.length]!, ada)),
  )
  const claimed = new Set(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.shipmentId] : [])))
  t.equal(claimed.size, 3, 'three shipments claimed')
  const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as WarehouseError] : []))
  t.ok(refusals.length > 0 && refusals.every((e) => e.code === 'TOO_MANY_CLAIMS'), `${refusals.length} refused: TOO_MANY_CLAIMS`)
  t.match(refusals[0]!.message, /already hold 3 claims/)
  const { locks } = await lockService(t, prefix)
  t.same((await locks.heldObjectIds(SHIPMENT_CLAIM, ada.id)).sort(), [...claimed].sort(), 'and exactly those are held')

  const free = ids.find((id) => !claimed.has(id))!
  await instances[0]!.release([...claimed][0]!, ada)
  t.match(await instances[1]!.claim(free, ada), { shipmentId: free }, 'after releasing one, another can be claimed')
  t.match(await instances[1]!.claim(free, ada), { shipmentId: free }, 'claiming one already held again is no new claim')
  const bob = { id: 'agent-bob', name: 'Bob' }
  t.ok(await instances[0]!.claim(ids.find((id) => id !== free && !claimed.has(id))!, bob), "another agent's limit is its own")
})

t.test('a pack whose claim release fails is still a pack', async (t) => {
  const storage = await warehouseStorage(t)
  const [id] = await pendingShipments(storage, 1)
  const proxy = await startTcpProxy(t, '127.0.0.1', 6379)
  const { locks } = await lockService(t, isolatedRedisPrefix(t), `redis://127.0.0.1:${proxy.port}`)
  const claims = new PackingClaims(locks, new Shipments(storage), OPTIONS)
  const ada = { id: 'agent-ada', name: 'Ada' }
  await claims.claim(id!, ada)
  // Redis goes away exactly when the pack releases the claim: after the database write.
  const cut = proxy.refuseWhen((chunk) => /evalsha/i.test(chunk.toString('latin1')))
  t.match(await claims.pack(id!, ada), { id, status: 'PACKED', packedById: ada.id }, 'the write stands and is answered')
  t.ok(await Promise.race([cut.then(() => true), sleep(1000).then(() => false)]), 'Redis was cut at the release')
  t.match(await new Shipments(storage).get(id!), { status: 'PACKED' })
})

t.test('housekeeping releases claims only on shipments known not to be PENDING', async (t) => {
  const { storage: base, url } = await warehouseDatabase(t)
  const [live, packed, gone] = (await pendingShipments(base, 3)) as [string, string, string]
  // The claims' view of the database goes through a proxy the test can cut.
  const proxy = await startTcpProxy(t, '127.0.0.1', 5432)
  const proxied = new URL(url)
  proxied.port = String(proxy.port)
  const storage = openStorage(proxied.toString())
  t.teardown(() => storage.close())
  const { locks } = await lockService(t, isolatedRedisPrefix(t))
  const claimsView = { locks, shipments: new Shipments(storage) }
  const ada = { id: 'agent-ada', name: 'Ada' }
  for (const id of [live, packed, gone]) await new PackingClaims(locks, new Shipments(base), OPTIONS).claim(id, ada)
  // Behind the claims' back: one packed by other means, one deleted. Their claims are stale.
  await new Shipments(base).pack(packed, { id: 'agent-other', name: 'Other' })
  await base.delete(shipmentRecords, gone)
  const holders = async () =>
    Promise.all([live, packed, gone].map(async (id) => (await locks.getObjectLock(SHIPMENT_CLAIM, id))?.holder ?? null))

  proxy.refuse()
  t.same(
    await releaseStaleClaims(claimsView),
    { released: 0, unchecked: 3 },
    'the database is cut: nothing known, nothing released',
  )
  t.same(await holders(), [ada.id, ada.id, ada.id], 'every claim stays')

  proxy.restore()
  let report = await releaseStaleClaims(claimsView)
  for (let i = 0; i < 100 && report.unchecked > 0; i++) {
    await sleep(100)
    report = await releaseStaleClaims(claimsView)
  }
  t.same(report, { released: 2, unchecked: 0 }, 'back: the packed and the deleted shipment lose their claims')
  t.same(await holders(), [ada.id, null, null], 'the live claim stays')
})
