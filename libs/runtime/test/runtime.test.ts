import { Lifecycle } from '@tms/lifecycle'
import { createLogger } from '@tms/logging'
import { ensureTestDatabase, isolatedDatabaseUrl, isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t from 'tap'
import { buildWarehouseServices, openRuntime } from '../src/index.js'

t.test('opens, prepares and builds; the shutdown closes the services, then Redis, then the database', async (t) => {
  await ensureTestDatabase()
  const config = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: isolatedRedisPrefix(t),
    DATABASE_URL: isolatedDatabaseUrl(t),
    INSTANCE_ID: 'runtime-test',
  }
  const lines: Array<{ msg: string; phase?: string }> = []
  const logger = createLogger({ app: 'runtime-test', version: '0', instanceId: 'runtime-test', level: 'info' })
  const lifecycle = new Lifecycle({
    logger: {
      info: (obj: { phase?: string }, msg: string) => lines.push({ ...obj, msg }),
      warn: () => {},
      error: () => {},
      fatal: () => {},
    },
    shutdownTimeoutMs: 10_000,
  })
  const runtime = openRuntime({ app: 'test', config, logger, lifecycle })
  await runtime.prepare({ connectTimeoutMs: 10_000 })
  const services = buildWarehouseServices(runtime)
  t.ok((await services.catalogue.products()).length > 0, 'the catalogue is seeded')
  t.same(await services.shipments.countByStatus(), { PENDING: 0, PACKED: 0, SHIPPED: 0 }, 'the tables are there')
  await lifecycle.shutdown('test')
  t.same(
    lines.filter((l) => l.msg.endsWith(' done')).map((l) => l.phase),
    ['services', 'redis', 'database'],
    'closed in that order',
  )
  // QUIT answered; the connection then ends.
  if (runtime.redis.status !== 'end') await new Promise((resolve) => runtime.redis.once('end', resolve))
  t.pass('the Redis connection ended')
})
