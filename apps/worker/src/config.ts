import { createRequire } from 'node:module'
import {
  databaseEnv,
  duration,
  type EnvContext,
  integerBetween,
  loadConfigOrExit,
  portNumber,
  positiveInt,
  redisEnv,
  runtimeEnv,
  str,
  url,
} from '@tms/config'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

export function workerEnv(ctx: EnvContext) {
  return {
    ...runtimeEnv(ctx, { appVersion: version }),
    ...redisEnv(),
    ...databaseEnv(),
    WORKER_HEALTH_PORT: portNumber({ default: 3001 }),
    HOST: str({ default: ctx.production ? '0.0.0.0' : '127.0.0.1' }),
    /** Jobs this instance runs at once (different schedules; one run per schedule at a time). */
    WORKER_CONCURRENCY: positiveInt({ default: 4 }),
    /** On SIGTERM, how long the running job may take to finish before it is aborted (the shutdown's per-phase budget). */
    WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt({ default: 600_000 }),
    /**
     * How fast a job whose worker died (SIGKILL, lost host) runs again elsewhere: about lock
     * duration plus the stalled-check interval (BullMQ's defaults are 30 s each).
     */
    JOB_LOCK_MS: positiveInt({ default: 5000 }),
    JOB_STALLED_CHECK_MS: positiveInt({ default: 5000 }),
    JOB_SYNC_ORDERS_EVERY: duration({ default: 5 * 60_000 }),
    JOB_CREATE_SHIPMENTS_EVERY: duration({ default: 60_000 }),
    JOB_HOUSEKEEPING_EVERY: duration({ default: 60_000 }),
    /** How often shipped shipments are told to the shop (notify-shipped): at most this late. */
    JOB_NOTIFY_SHIPPED_EVERY: duration({ default: 5000 }),
    /** Overrides the schedule table's version (SCHEDULE_TABLE_VERSION in code), for tests and emergencies. */
    JOB_SCHEDULE_VERSION: positiveInt({ default: undefined }),
    /** The web shop's order API. No credentials in it: they go in SHOP_API_AUTHORIZATION. */
    SHOP_API_URL: url(['http', 'https'], { credentials: false })({ default: 'http://127.0.0.1:3100' }),
    /**
     * The Authorization header the shop's API wants (`Bearer …`, `Basic …`), sent with every call
     * to it; a secret, never logged or shown. Empty: none.
     */
    SHOP_API_AUTHORIZATION: str({ default: '' }),
    SHOP_TIMEOUT_MS: positiveInt({ default: 5000 }),
    /**
     * Shipments told to the shop per call, through its batch webhook; 1 for a shop that has only
     * the per-order one (POST /orders/:id/shipment).
     */
    SHOP_NOTIFY_BATCH_SIZE: integerBetween(1, 100)({ default: 100 }),
    /**
     * How long a shipped shipment may wait for its shop notification before housekeeping sends
     * it again (longer than a notification's own retries take, about 15 s).
     */
    SHOP_NOTIFICATION_GRACE_MS: positiveInt({ default: 120_000 }),
    /** Finished run records older than this are deleted by housekeeping. */
    RUN_HISTORY_DAYS: positiveInt({ default: 14 }),
  }
}

export type WorkerConfig = ReturnType<typeof readWorkerConfig>

export function readWorkerConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfigOrExit('worker', workerEnv, env)
}
