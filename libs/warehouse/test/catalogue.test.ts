import { createCaches } from '@tms/cache'
import { connectRedis, createRedis } from '@tms/redis'
import { isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t from 'tap'
import { Catalogue, DEFAULT_PRODUCTS } from '../src/catalogue.js'
import { products } from '../src/collections.js'
import { ShipmentRequests } from '../src/shipment-requests.js'
import { address, warehouseStorage } from './support.js'

t.test('seeding is idempotent and safe when several instances start at once', async (t) => {
  const storage = await warehouseStorage(t)
  await Promise.all(Array.from({ length: 4 }, () => Catalogue.seed(storage)))
  await Catalogue.seed(storage)
  t.equal(await storage.count(products), DEFAULT_PRODUCTS.length)
})

t.test('shipment requests record unknown SKUs as data problems', async (t) => {
  const storage = await warehouseStorage(t)
  await Catalogue.seed(storage)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'catalogue-test' })
  const subscriber = createRedis(TEST_REDIS_URL, { connectionName: 'catalogue-test-bus', role: 'subscriber' })
  await connectRedis(redis)
  const noop = () => {}
  const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger }
  const caches = createCaches({ redis, subscriber, prefix: isolatedRedisPrefix(t), schemaVersion: 1, logger })
  t.teardown(async () => {
    await caches.close()
    redis.disconnect()
    subscriber.disconnect()
  })
  const requests = new ShipmentRequests(storage, new Catalogue(storage, caches.memory))
  const { request } = await requests.submit({
    orderId: 'o-1',
    items: [
      { sku: 'COLLAR-M', quantity: 1 },
      { sku: 'NOPE', quantity: 1 },
    ],
    address,
  })
  t.same(request.errors, [{ field: 'items.1.sku', message: 'unknown SKU "NOPE"' }])
})
