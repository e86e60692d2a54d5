import { FencingTokenRejectedError } from '@tms/storage'
import t from 'tap'
import { shipmentRequests, shipments } from '../src/collections.js'
import { WarehouseError } from '../src/errors.js'
import { findDataProblems, ShipmentRequests } from '../src/shipment-requests.js'
import { Shipments } from '../src/shipments.js'
import { address, warehouseStorage } from './support.js'

const items = [{ sku: 'TRACKER-4G', quantity: 1 }]

t.test('data problems are recorded, not rejected', async (t) => {
  t.same(findDataProblems({ orderId: 'o', items, address }), [])
  const { postalCode: _, ...noPostal } = address
  t.same(
    findDataProblems({ orderId: 'o', items, address: { ...noPostal, country: 'XX' } }).map((p) => p.field),
    ['address.postalCode', 'address.country'],
  )
  const requests = new ShipmentRequests(await warehouseStorage(t))
  const { request, created } = await requests.submit({ orderId: 'o-1', items, address: { ...address, postalCode: ' ' } })
  t.ok(created)
  t.equal(request.status, 'OPEN')
  t.same(request.errors, [{ field: 'address.postalCode', message: 'postal code is missing' }])
})

t.test('the order id is an idempotency key, also under concurrency', async (t) => {
  const storage = await warehouseStorage(t)
  const requests = new ShipmentRequests(storage)
  const results = await Promise.all(Array.from({ length: 8 }, () => requests.submit({ orderId: 'o-7', items, address })))
  t.equal(results.filter((r) => r.created).length, 1)
  t.equal(new Set(results.map((r) => r.request.id)).size, 1)
  t.equal(await storage.count(shipmentRequests), 1)
})

t.test('bulk creation: one shipment per ready request, repeatable, safe from three places at once', async (t) => {
  const storage = await warehouseStorage(t)
  const requests = new ShipmentRequests(storage)
  for (let i = 0; i < 30; i++) await requests.submit({ orderId: `o-${i}`, items, address })
  await requests.submit({ orderId: 'bad', items, address: { ...address, country: 'Atlantis' } })
  const runners = Array.from({ length: 3 }, () => new Shipments(storage))
  const results = await Promise.all(runners.map((r) => r.createForReadyRequests()))
  t.equal(
    results.reduce((sum, r) => sum + r.created, 0),
    30,
  )
  t.equal(await storage.count(shipments), 30, 'no request shipped twice')
  t.same(await runners[0]!.createForReadyRequests(), { created: 0 }, 'a rerun creates nothing')
  t.equal(await storage.count(shipmentRequests, { status: 'OPEN' }), 1, 'only the one needing a fix stays open')
  const done = await requests.list({ status: 'DONE', limit: 100 })
  t.ok(done.every((r) => r.shipmentId !== null))
})

t.test('pack and ship follow PENDING → PACKED → SHIPPED', async (t) => {
  const storage = await warehouseStorage(t)
  await new ShipmentRequests(storage).submit({ orderId: 'o-1', items, address })
  const service = new Shipments(storage)
  await service.createForReadyRequests()
  const [pending] = await service.list({ status: 'PENDING' })
  const packer = { id: 'agent-1', mayShipAny: false }
  await t.rejects(service.ship(pending!.id, 'TRK1', packer), WarehouseError, 'cannot ship before packing')
  const packed = await service.pack(pending!.id, { id: 'agent-1', name: 'Agent One' })
  t.match(packed, { status: 'PACKED', packedBy: 'Agent One', packedById: 'agent-1' })
  await t.rejects(service.pack(pending!.id, { id: 'agent-2', name: 'Agent Two' }), {
    code: 'WRONG_STATUS',
    message: /is PACKED, not PENDING/,
  })
  await t.rejects(
    service.ship(pending!.id, 'TRK1', { id: 'agent-2', mayShipAny: false }),
    { code: 'PACKED_BY_ANOTHER', statusCode: 403, message: /packed by someone else/ },
    'another agent may not ship it',
  )
  t.match(await service.ship(pending!.id, 'TRK1', packer), { status: 'SHIPPED', trackingNumber: 'TRK1' })
  t.same(await service.countByStatus(), { PENDING: 0, PACKED: 0, SHIPPED: 1 })
  await t.rejects(service.get('00000000-0000-4000-8000-00000000ffff'), {
    code: 'NOT_FOUND',
    statusCode: 404,
    message: /does not exist/,
  })
})

t.test('a pack with an older fencing token is rejected', async (t) => {
  const storage = await warehouseStorage(t)
  await new ShipmentRequests(storage).submit({ orderId: 'o-1', items, address })
  const service = new Shipments(storage)
  await service.createForReadyRequests()
  const [pending] = await service.list({ status: 'PENDING' })
  const current = (await storage.get(shipments, pending!.id))!
  await storage.update(shipments, current, {}, { fencingToken: 10 })
  await t.rejects(service.pack(pending!.id, { id: 'p', name: 'paused-agent' }, { fencingToken: 9 }), FencingTokenRejectedError)
  t.match(await service.pack(pending!.id, { id: 'c', name: 'current-agent' }, { fencingToken: 10 }), {
    packedBy: 'current-agent',
  })
})
