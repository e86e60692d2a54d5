import { Broadcast, NOTIFY_SHOP_CANCELLED_JOB, NOTIFY_SHOP_JOB, SCHEDULED_JOBS } from '@tms/jobs'
import { Lifecycle } from '@tms/lifecycle'
import { createLogger, flushLogger } from '@tms/logging'
import { Keyspace } from '@tms/redis'
import { buildWarehouseServices, openRuntime } from '@tms/runtime'
import { readWorkerConfig } from './config.js'
import { createShipments } from './handlers/create-shipments.js'
import { housekeeping } from './handlers/housekeeping.js'
import { notifyShipped } from './handlers/notify-shipped.js'
import { notifyShop } from './handlers/notify-shop.js'
import { notifyShopCancelled } from './handlers/notify-shop-cancelled.js'
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
const runtime = openRuntime({ app: 'worker', config, logger, lifecycle })

try {
  await runtime.prepare()
  const { redis, subscriber, blocking, storage } = runtime
  const services = buildWarehouseServices(runtime)
  const { locks, caches, requests, shipments, runs, registry, jobs, quarantine, jobsQueue: queue } = services
  const table = scheduleTable(config)

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

  const shop = new ShopClient(config.SHOP_API_URL, config.SHOP_TIMEOUT_MS, { authorization: config.SHOP_API_AUTHORIZATION })
  const runner = new JobRunner({
    connection: blocking,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    table,
    handlers: {
      [SCHEDULED_JOBS.syncOrders]: syncOrders({
        shop,
        requests,
        quarantine,
        cache: caches.remote,
        redis,
        cursorKey: keys.key(SCHEDULED_JOBS.syncOrders, 'cursor'),
      }),
      [SCHEDULED_JOBS.createShipments]: createShipments({ shipments }),
      [SCHEDULED_JOBS.notifyShipped]: notifyShipped({ shop, shipments, batchSize: config.SHOP_NOTIFY_BATCH_SIZE }),
      // Queued by APIs before notify-shipped, and by housekeeping for what they shipped.
      [NOTIFY_SHOP_JOB]: notifyShop({ shop, shipments }),
      [NOTIFY_SHOP_CANCELLED_JOB]: notifyShopCancelled({ shop, requests }),
      [SCHEDULED_JOBS.housekeeping]: housekeeping({
        locks,
        shipments,
        requests,
        batches: services.batches,
        runs,
        jobs,
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
