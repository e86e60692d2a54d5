import { jobRuns } from '@tms/jobs'
import { addHttpShutdownSteps, Lifecycle } from '@tms/lifecycle'
import { createLogger, flushLogger } from '@tms/logging'
import { closeRedis, connectRedis, createRedis } from '@tms/redis'
import { openStorage } from '@tms/storage'
import { Accounts, Catalogue, WAREHOUSE_COLLECTIONS } from '@tms/warehouse'
import { buildApp } from './app.js'
import { readApiConfig } from './config.js'
import { warmUp } from './warm-up.js'

const config = readApiConfig()
const logger = createLogger({ app: 'api', version: config.APP_VERSION, instanceId: config.INSTANCE_ID, level: config.LOG_LEVEL })
const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, flushLogs: () => flushLogger(logger) })
lifecycle.installSignalHandlers()

const redis = createRedis(config.REDIS_URL, { connectionName: `api:${config.INSTANCE_ID}`, logger })
const subscriber = createRedis(config.REDIS_URL, { connectionName: `api:${config.INSTANCE_ID}:bus`, role: 'subscriber', logger })
const jobsConnection = createRedis(config.REDIS_URL, {
  connectionName: `api:${config.INSTANCE_ID}:jobs`,
  role: 'blocking',
  logger,
})
const storage = openStorage(config.DATABASE_URL, {
  applicationName: `tms-api ${config.INSTANCE_ID}`,
  onError: (error) => logger.warn({ err: error.message }, 'database connection lost'),
})
lifecycle.addShutdownStep({
  name: 'redis',
  run: async () => void (await Promise.all([closeRedis(redis), closeRedis(subscriber), closeRedis(jobsConnection)])),
})
lifecycle.addShutdownStep({ name: 'database', run: () => storage.close() })

try {
  await connectRedis(redis, 30_000)
  await storage.migrate([...WAREHOUSE_COLLECTIONS, jobRuns])
  await Catalogue.seed(storage)
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const accounts = new Accounts(storage, { passwordCost: { logN: config.PASSWORD_SCRYPT_LOG_N } })
    const outcome = await accounts.ensureFirstAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD)
    if (outcome === 'created') logger.info({ email: config.ADMIN_EMAIL }, 'first admin created')
  }
  const app = await buildApp({ config, logger, redis, subscriber, jobsConnection, storage, lifecycle })
  // HTTP steps go first: stop serving before closing what requests use.
  addHttpShutdownSteps(lifecycle, app, config.DRAIN_DELAY_MS)
  const warm = await warmUp(app, { requests: config.WARM_UP_REQUESTS })
  if (warm.requests > 0) logger.info(warm, 'warmed up')
  const address = await app.listen({ host: config.HOST, port: config.PORT })
  lifecycle.markReady()
  logger.info({ address, port: (app.server.address() as { port: number }).port }, 'listening')
} catch (error) {
  logger.fatal({ err: error }, 'startup failed')
  process.exitCode = 1
  await lifecycle.shutdown('startup failed').catch(() => undefined)
  await flushLogger(logger)
  process.exit(1)
}
