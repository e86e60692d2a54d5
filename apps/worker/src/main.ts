import { createCaches } from '@tms/cache'
import { Broadcast, JobRuns, JobsAdmin, jobRuns, NOTIFY_SHOP_JOB, openJobsQueue, ScheduleRegistry } from '@tms/jobs'
import { Lifecycle } from '@tms/lifecycle'
import { LockService, locksPrefix } from '@tms/locks'
import { createLogger, flushLogger } from '@tms/logging'
import { closeRedis, connectRedis, createRedis, Keyspace } from '@tms/redis'
import { openStorage } from '@tms/storage'
import { Catalogue, QuarantinedOrders, ShipmentRequests, Shipments, WAREHOUSE_COLLECTIONS } from '@tms/warehouse'
import { readWorkerConfig } from './config.js'
import { createShipments } from './handlers/create-shipments.js'
import { housekeeping } from './handlers/housekeeping.js'
import { notifyShop } from './handlers/notify-shop.js'
import { syncOrders } from './handlers/sync-orders.js'
import { buildHealthServer } from './health-server.js'
import { JobRunner } from './job-runner.js'
import { SCHEDULE_TABLE_VERSION, scheduleTable } from './schedule-table.js'
import { ShopClient } from './shop-client.js'

const config = readWorkerConfig()
const instance = config.INSTANCE_ID
const logger = createLogger({ app: 'worker', version: config.APP_VERSION, instanceId: instance, level: config.LOG_LEVEL })
const lifecycle = new Lifecycle({
  logger,
  // Room for the running job's budget, then closing connections.
  shutdownTimeoutMs: config.WORKER_SHUTDOWN_TIMEOUT_MS + 15_000,
  flushLogs: () => flushLogger(logger),
})
lifecycle.installSignalHandlers()

const keys = new Keyspace(config.REDIS_KEY_PREFIX)
const redis = createRedis(config.REDIS_URL, { connectionName: `worker:${instance}`, logger })
const subscriber = createRedis(config.REDIS_URL, { connectionName: `worker:${instance}:bus`, role: 'subscriber', logger })
const bullConnection = createRedis(config.REDIS_URL, { connectionName: `worker:${instance}:bull`, role: 'blocking', logger })
const storage = openStorage(config.DATABASE_URL, {
  applicationName: `tms-worker ${instance}`,
  onError: (error) => logger.warn({ err: error.message }, 'database connection lost'),
})
lifecycle.addShutdownStep({
  name: 'redis',
  run: async () => void (await Promise.all([closeRedis(redis), closeRedis(subscriber), closeRedis(bullConnection)])),
})
lifecycle.addShutdownStep({ name: 'database', run: () => storage.close() })

try {
  await connectRedis(redis, 30_000)
  await storage.migrate([...WAREHOUSE_COLLECTIONS, jobRuns])
  await Catalogue.seed(storage)

  const locks = new LockService({ redis, prefix: locksPrefix(config.REDIS_KEY_PREFIX), logger })
  const caches = createCaches({ redis, subscriber, prefix: config.REDIS_KEY_PREFIX, logger })
  const catalogue = new Catalogue(storage, caches.memory)
  const requests = new ShipmentRequests(storage, catalogue)
  const shipments = new Shipments(storage, { cache: caches.remote, locks })
  const runs = new JobRuns(storage)
  const registry = new ScheduleRegistry(redis, config.REDIS_KEY_PREFIX)
  const table = scheduleTable(config)
  const queue = openJobsQueue(bullConnection, config.REDIS_KEY_PREFIX)
  queue.on('error', (error) => logger.warn({ err: error.message }, 'job queue error'))

  const report = await registry.sync({
    queue,
    locks,
    table,
    version: config.JOB_SCHEDULE_VERSION ?? SCHEDULE_TABLE_VERSION,
    instance,
    logger,
  })
  logger.info({ ...report }, 'schedule table synced')

  // What every instance must hear (pub/sub), beside jobs that exactly one worker takes.
  const broadcast = new Broadcast(redis, config.REDIS_KEY_PREFIX)
  await broadcast.listen(subscriber, (message) => {
    logger.info({ broadcast: message.type }, 'broadcast received')
    if (message.type === 'reload-catalogue') void caches.memory.delete('catalogue')
  })

  const shop = new ShopClient(config.SHOP_API_URL, config.SHOP_TIMEOUT_MS)
  const runner = new JobRunner({
    connection: bullConnection,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    table,
    handlers: {
      'sync-orders': syncOrders({
        shop,
        requests,
        quarantine: new QuarantinedOrders(storage),
        cache: caches.remote,
        redis,
        cursorKey: keys.key('sync-orders', 'cursor'),
      }),
      'create-shipments': createShipments({ shipments }),
      [NOTIFY_SHOP_JOB]: notifyShop({ shop, shipments }),
      housekeeping: housekeeping({
        locks,
        shipments,
        runs,
        jobs: new JobsAdmin(queue, registry, runs),
        retentionDays: config.RUN_HISTORY_DAYS,
        staleRunMs: Math.max(...table.map((s) => s.maxRunTimeMs)) + 60_000,
        notificationGraceMs: config.SHOP_NOTIFICATION_GRACE_MS,
      }),
    },
    registry,
    runs,
    locks,
    logger,
    instance,
    version: config.APP_VERSION,
    concurrency: config.WORKER_CONCURRENCY,
    lockMs: config.JOB_LOCK_MS,
    stalledCheckMs: config.JOB_STALLED_CHECK_MS,
  })

  const health = await buildHealthServer({
    lifecycle,
    logger,
    checks: {
      redis: async () => void (await redis.ping()),
      database: () => storage.ping(),
      jobs: async () => {
        if (!runner.running) throw new Error('the job worker is not running')
      },
    },
  })
  lifecycle.addShutdownStep(
    {
      name: 'jobs',
      run: () => runner.stop(config.WORKER_SHUTDOWN_TIMEOUT_MS),
      describePending: () => `${runner.activeRuns} jobs running`,
    },
    'first',
  )
  lifecycle.addShutdownStep({ name: 'health server', run: () => health.close() })
  lifecycle.addShutdownStep({ name: 'queue', run: () => queue.close() }, 'first')
  runner.start()
  const address = await health.listen({ host: config.HOST, port: config.WORKER_HEALTH_PORT })
  lifecycle.markReady()
  logger.info(
    { address, port: (health.server.address() as { port: number }).port, schedules: table.map((s) => s.id) },
    'worker started',
  )
} catch (error) {
  logger.fatal({ err: error }, 'startup failed')
  await lifecycle.shutdown('startup failed').catch(() => undefined)
  await flushLogger(logger)
  process.exit(1)
}
