import fastifyRedis from '@fastify/redis'
import { healthPlugin, REQUEST_TIMEOUT_MS } from '@tms/lifecycle'
import { type Logger, lazyChildLogger } from '@tms/logging'
import { Keyspace } from '@tms/redis'
import type { Runtime, WarehouseServices } from '@tms/runtime'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { ApiConfig } from './config.js'
import { IdempotencyStore } from './http/idempotency-store.js'
import { useStrictValidation } from './http/validation.js'
import { authentication } from './plugins/authentication.js'
import { crossSite } from './plugins/cross-site.js'
import { answerFrameworkError, errorHandling } from './plugins/error-handler.js'
import { IN_PROGRESS_MS, idempotency } from './plugins/idempotency.js'
import { openapi } from './plugins/openapi.js'
import { requestLog } from './plugins/request-log.js'
import { requestIdOf, responseHeaders } from './plugins/response-headers.js'
import { sessions } from './plugins/sessions.js'
import { webApp } from './plugins/web-app.js'
import { writeLimits } from './plugins/write-limits.js'
import { adminRoutes } from './routes/admin.js'
import { authRoutes } from './routes/auth.js'
import { catalogueRoutes } from './routes/catalogue.js'
import { deviceRoutes } from './routes/devices.js'
import { jobRoutes } from './routes/jobs.js'
import { refurbishmentBatchRoutes } from './routes/refurbishment-batches.js'
import { shipmentRequestRoutes } from './routes/shipment-requests.js'
import { shipmentRoutes } from './routes/shipments.js'
import { shopOrderRoutes } from './routes/shop-orders.js'
import { userRoutes } from './routes/users.js'
import { DeviceCookies } from './sessions/device-cookie.js'
import { LoginThrottle } from './sessions/login-throttle.js'
import { TokenUsage } from './sessions/token-usage.js'

export interface ApiDependencies {
  config: ApiConfig
  /** The connections (openRuntime): health checks, sessions, login limits. */
  runtime: Runtime
  /** The warehouse's services (buildWarehouseServices), which the routes use. */
  services: WarehouseServices
}

/** What the API asks of the warehouse's services, from its configuration. */
export function warehouseOptions(config: ApiConfig) {
  return {
    passwordCost: { logN: config.PASSWORD_SCRYPT_LOG_N },
    passwordHashing: { concurrency: config.PASSWORD_HASH_CONCURRENCY, maxWaitMs: config.PASSWORD_HASH_MAX_WAIT_MS },
    claims: { ttlMs: config.PACKING_CLAIM_TTL_SECONDS * 1000, maxClaimsPerAgent: config.MAX_CLAIMS_PER_AGENT },
    batchClaimTtlMs: config.PACKING_CLAIM_TTL_SECONDS * 1000,
    inProcessState: config.TMS_DEMO_IN_PROCESS_STATE,
  }
}

/** Builds the API without listening: the entry point listens, tests inject or listen on port 0. */
export async function buildApp({ config, runtime, services }: ApiDependencies): Promise<FastifyInstance> {
  const { redis, storage, lifecycle, logger } = runtime
  const keyspace = new Keyspace(config.REDIS_KEY_PREFIX)

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Our own one-line request log replaces Fastify's two lines (see plugins/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (parent, bindings, options) => lazyChildLogger(parent as Logger, bindings, options),
    // Fastify accepts a hop count at runtime, though its types list only boolean and addresses.
    trustProxy: config.TRUST_PROXY as boolean | string,
    bodyLimit: 64 * 1024,
    // Above the load balancer's idle timeout: the balancer, never us, closes idle connections,
    // so it never sends a request on a connection we are closing at that very moment.
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // During shutdown, requests on connections that are still open are served, not refused:
    // the drain has already moved traffic away, and a 503 here is exactly a dropped request.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // An upstream id (the load balancer's) wins when it looks like one; otherwise a counter,
    // unique together with the instance id that every log line carries. (randomUUID cost more
    // than it told.) A client's id goes into every log line of the request: it is checked.
    requestIdHeader: false,
    genReqId: requestIdOf,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: answerFrameworkError,
  })
  app.server.headersTimeout = config.KEEP_ALIVE_TIMEOUT_MS + 1000

  useStrictValidation(app)
  // This API speaks JSON only: anything else is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain')
  await app.register(errorHandling)
  await app.register(responseHeaders, { version: config.APP_VERSION, instanceId: config.INSTANCE_ID })
  await app.register(requestLog)
  // The runtime's request-path connection, as `app.redis` for the plugins that need it (sessions,
  // write limits). The runtime closes it, in its own shutdown step.
  await app.register(fastifyRedis, { client: redis, closeClient: false })
  await app.register(openapi, { version: config.APP_VERSION })
  await app.register(webApp, { dir: config.WEB_APP_DIR, version: config.APP_VERSION })
  await app.register(healthPlugin, {
    lifecycle,
    checks: { redis: async () => void (await redis.ping()), database: () => storage.ping() },
  })

  // The demonstration of what in-process state does to a deploy (refused in production): locks
  // and shipment counts this instance's own (warehouseOptions), and sessions in memory (below).
  const inProcess = config.TMS_DEMO_IN_PROCESS_STATE
  if (inProcess) logger.warn("TMS_DEMO_IN_PROCESS_STATE: sessions, caches and locks are this process's own")
  const { accounts, catalogue, requests, shipments, claims, jobs, caches, quarantine } = services
  const throttle = new LoginThrottle(redis, keyspace.child('login-failures'), {
    perDevice: config.LOGIN_MAX_FAILURES_PER_DEVICE,
    perAccountAndAddress: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    perAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
    slowDownAfter: config.LOGIN_SLOW_DOWN_AFTER,
    maxDelaySeconds: config.LOGIN_MAX_DELAY_SECONDS,
    windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
  })

  // Everything that may need a session lives in this context; health checks and docs stay outside
  // it, so a load balancer's probe never touches Redis for a session.
  let issueSession: FastifyInstance['issueSession'] | undefined
  await app.register(async (api) => {
    await api.register(crossSite, { allowedOrigins: config.ALLOWED_ORIGINS })
    await api.register(sessions, {
      keyspace: keyspace.child('sess'),
      secrets: config.SESSION_SECRETS,
      ttlSeconds: config.SESSION_TTL_SECONDS,
      maxAgeSeconds: config.SESSION_MAX_AGE_SECONDS,
      store: inProcess ? 'memory' : 'redis',
    })
    const tokenUsage = new TokenUsage(redis, keyspace)
    await api.register(authentication, { accounts, tokenUsage })
    await api.register(idempotency, {
      store: new IdempotencyStore(redis, keyspace.child('idem'), {
        maxKeys: config.IDEMPOTENCY_MAX_KEYS_PER_PRINCIPAL,
        maxBytes: config.IDEMPOTENCY_MAX_BYTES_PER_PRINCIPAL,
        ttlMs: config.IDEMPOTENCY_TTL_SECONDS * 1000,
        inProgressMs: IN_PROGRESS_MS,
      }),
    })
    await api.register(writeLimits, {
      keyspace: keyspace.child('write-limit'),
      perMinute: {
        'device-registrations': config.RATE_LIMIT_DEVICE_REGISTRATIONS_PER_MINUTE,
        'batch-adds': config.RATE_LIMIT_BATCH_ADDS_PER_MINUTE,
        'bulk-creations': config.RATE_LIMIT_BULK_CREATIONS_PER_MINUTE,
        'request-creations': config.RATE_LIMIT_REQUEST_CREATIONS_PER_MINUTE,
      },
    })
    await api.register(authRoutes, { accounts, throttle, devices: new DeviceCookies(config.SESSION_SECRETS) })
    await api.register(userRoutes, { accounts, tokenUsage })
    await api.register(deviceRoutes, { devices: services.devices })
    await api.register(refurbishmentBatchRoutes, { batches: services.batches })
    await api.register(shipmentRoutes, { shipments, claims })
    await api.register(catalogueRoutes, { catalogue })
    await api.register(adminRoutes, { caches })
    // What only operators do: fix requests, steer the jobs, sync the shop. Who is calling is
    // checked once for all of it, before anything is parsed.
    await api.register(async (operators) => {
      operators.addHook('onRequest', operators.requireRole('operator'))
      await operators.register(shipmentRequestRoutes, { requests, jobs })
      await operators.register(jobRoutes, { jobs })
      await operators.register(shopOrderRoutes, { jobs, quarantine })
    })
    issueSession = api.issueSession
  })
  // The warm-up's session (see warm-up.ts), from the context that owns sessions.
  app.decorate('issueSession', (data: Parameters<FastifyInstance['issueSession']>[0]) => issueSession!(data))

  return app
}
