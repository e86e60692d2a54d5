import { LockService } from '@tms/locks'
import { connectRedis, createRedis } from '@tms/redis'
import { isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t from 'tap'
import { WarehouseError } from '../src/errors.js'
import { PackingClaims, SHIPMENT_CLAIM } from '../src/packing-claims.js'
import { ShipmentRequests } from '../src/shipment-requests.js'
import { Shipments } from '../src/shipments.js'
import { address, warehouseStorage } from './support.js'

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
  const adasClaims = new PackingClaims(locks, shipments, 60_000)
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
  const bobsClaims = new PackingClaims(locks, bobsView, 60_000)
  const outcome = await bobsClaims.claim(shipment!.id, bob).then(
    () => 'claimed',
    (error: unknown) => error,
  )
  t.type(outcome, WarehouseError, 'a conflict, not a claim')
  t.equal((outcome as WarehouseError).kind, 'conflict')
  t.not((await locks.getObjectLock(SHIPMENT_CLAIM, shipment!.id))?.holder, bob.id, 'Bob holds no claim on it')
})
