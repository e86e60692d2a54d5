import { createRequire } from 'node:module'
import { bool, httpEnv, loadConfigOrExit, nonNegativeInt, runtimeEnv, str } from '@tms/config'
import { addHttpShutdownSteps, Lifecycle } from '@tms/lifecycle'
import { createLogger, flushLogger } from '@tms/logging'
import { buildShop } from './app.js'
import { OrderBook, parseMalformed } from './orders.js'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }
const config = loadConfigOrExit('shop-sim', (ctx) => ({
  ...runtimeEnv(ctx, { appVersion: version }),
  ...httpEnv(ctx, { port: 3100 }),
  SHOP_SEED: nonNegativeInt({ default: 42 }),
  SHOP_INITIAL_ORDERS: nonNegativeInt({ default: 20 }),
  SHOP_ORDERS_PER_MINUTE: nonNegativeInt({ default: 6 }),
  SHOP_PROBLEM_RATE: str({ default: '0.1' }),
  SHOP_FAULTS: bool({ default: !ctx.production }),
  /** Orders that arrive malformed: `<seq>:<kind>,…` (kinds in orders.ts MALFORMATIONS). */
  SHOP_MALFORMED: str({ default: '' }),
}))
const logger = createLogger({
  app: 'shop-sim',
  version: config.APP_VERSION,
  instanceId: config.INSTANCE_ID,
  level: config.LOG_LEVEL,
})
const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, flushLogs: () => flushLogger(logger) })
lifecycle.installSignalHandlers()

const orders = new OrderBook({
  seed: config.SHOP_SEED,
  initial: config.SHOP_INITIAL_ORDERS,
  perMinute: config.SHOP_ORDERS_PER_MINUTE,
  problemRate: Number(config.SHOP_PROBLEM_RATE),
  malformed: parseMalformed(config.SHOP_MALFORMED),
  startedAt: Date.now(),
})
const app = await buildShop({ orders, logger, lifecycle, faults: config.SHOP_FAULTS })
addHttpShutdownSteps(lifecycle, app, Math.min(config.DRAIN_DELAY_MS, 1000))
const address = await app.listen({ host: config.HOST, port: config.PORT })
lifecycle.markReady()
logger.info({ address, port: (app.server.address() as { port: number }).port, orders: orders.count() }, 'listening')
