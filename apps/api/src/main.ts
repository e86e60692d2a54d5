import { addHttpShutdownSteps, Lifecycle } from '@tms/lifecycle'
import { createLogger, flushLogger } from '@tms/logging'
import { buildWarehouseServices, openRuntime } from '@tms/runtime'
import { buildApp, warehouseOptions } from './app.js'
import { readApiConfig } from './config.js'
import { warmUp } from './warm-up.js'

const config = readApiConfig()
const logger = createLogger({ app: 'api', version: config.APP_VERSION, instanceId: config.INSTANCE_ID, level: config.LOG_LEVEL })
const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, flushLogs: () => flushLogger(logger) })
lifecycle.installSignalHandlers()
const runtime = openRuntime({ app: 'api', config, logger, lifecycle })

try {
  await runtime.prepare()
  const services = buildWarehouseServices(runtime, warehouseOptions(config))
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const outcome = await services.accounts.ensureFirstAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD)
    if (outcome === 'created') logger.info({ email: config.ADMIN_EMAIL }, 'first admin created')
  }
  const app = await buildApp({ config, runtime, services })
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
