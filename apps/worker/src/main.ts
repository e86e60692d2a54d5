// The job runner. Jobs arrive with BullMQ in the next step; until then it starts, reports
// itself and stops gracefully like every TMS process.
import { createRequire } from 'node:module'
import { loadConfigOrExit, positiveInt, runtimeEnv } from '@tms/config'
import { Lifecycle } from '@tms/lifecycle'
import { createLogger, flushLogger } from '@tms/logging'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }
const config = loadConfigOrExit('worker', (ctx) => ({
  ...runtimeEnv(ctx, { appVersion: version }),
  WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt({ default: 600_000 }),
}))
const logger = createLogger({
  app: 'worker',
  version: config.APP_VERSION,
  instanceId: config.INSTANCE_ID,
  level: config.LOG_LEVEL,
})
const lifecycle = new Lifecycle({
  logger,
  shutdownTimeoutMs: config.WORKER_SHUTDOWN_TIMEOUT_MS,
  flushLogs: () => flushLogger(logger),
})
lifecycle.installSignalHandlers()
lifecycle.markReady()
logger.info('worker started (no jobs yet)')
setInterval(() => {}, 1 << 30)
