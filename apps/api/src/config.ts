import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import {
  databaseEnv,
  demonstrationSwitch,
  type EnvContext,
  httpEnv,
  integerBetween,
  loadConfigOrExit,
  nonNegativeInt,
  origins,
  positiveInt,
  redisEnv,
  runtimeEnv,
  sessionEnv,
  str,
} from '@tms/config'
import { DEFAULT_SCRYPT_LOG_N, MIN_PRODUCTION_SCRYPT_LOG_N } from '@tms/warehouse'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

export function apiEnv(ctx: EnvContext) {
  return {
    ...runtimeEnv(ctx, { appVersion: version }),
    ...httpEnv(ctx, { port: 3000 }),
    ...redisEnv(),
    ...databaseEnv(),
    ...sessionEnv(ctx),
    /**
     * Failed logins of one account from one client address in a window, from unknown devices;
     * then that pair waits the window out.
     */
    LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: positiveInt({ default: 5 }),
    /**
     * Failed logins from one client address over all accounts in a window, from unknown devices.
     * A warehouse behind one NAT address shares it; its agents' known browsers do not count.
     */
    LOGIN_MAX_FAILURES_PER_ADDRESS: positiveInt({ default: 50 }),
    /**
     * Failed logins of one account over all addresses after which each attempt waits (1 s,
     * doubling), from unknown devices: a browser with the account's device cookie is not slowed.
     */
    LOGIN_SLOW_DOWN_AFTER: positiveInt({ default: 20 }),
    /** Failed logins from one known device (its device cookie) in a window; then it counts as unknown. */
    LOGIN_MAX_FAILURES_PER_DEVICE: positiveInt({ default: 10 }),
    LOGIN_MAX_DELAY_SECONDS: positiveInt({ default: 60 }),
    LOGIN_FAILURE_WINDOW_SECONDS: positiveInt({ default: 900 }),
    /**
     * scrypt's cost, log2(N), for new password hashes; logins rehash older ones. Each step
     * doubles a login's CPU and memory (17: 128 MiB). Tests use less; production refuses less
     * than 17.
     */
    PASSWORD_SCRYPT_LOG_N: integerBetween(10, 20, (value) =>
      ctx.production && value < MIN_PRODUCTION_SCRYPT_LOG_N
        ? `production needs at least ${MIN_PRODUCTION_SCRYPT_LOG_N}`
        : undefined,
    )({ default: DEFAULT_SCRYPT_LOG_N }),
    /**
     * Password hashes (logins, password changes and resets) an instance runs at once; others
     * wait. Each takes 128 MiB at the default cost: the instance's memory limit is sized from
     * this (deploy/, docs/benchmarks.md).
     */
    PASSWORD_HASH_CONCURRENCY: integerBetween(1, 64)({ default: 2 }),
    /** How long a hash waits for its turn before the request is a 503 with retry-after. */
    PASSWORD_HASH_MAX_WAIT_MS: positiveInt({ default: 5000 }),
    /**
     * Origins besides the API's own whose pages may write with a session cookie (comma list,
     * e.g. `https://tms.example.com`); empty: only the page the API serves. See plugins/cross-site.ts.
     */
    ALLOWED_ORIGINS: origins({ default: [] }),
    /** How long an agent holds a shipment at the packing station without extending the claim. */
    PACKING_CLAIM_TTL_SECONDS: positiveInt({ default: 120 }),
    /** Shipments one agent may hold claimed at once (a packing station works on one or two). */
    MAX_CLAIMS_PER_AGENT: positiveInt({ default: 3 }),
    /**
     * How long the answer to a write carrying an `Idempotency-Key` is kept (per user): a retry
     * of the same key within it is answered from the store instead of being done again.
     */
    IDEMPOTENCY_TTL_SECONDS: positiveInt({ default: 24 * 60 * 60 }),
    /**
     * What one caller's kept answers may hold at once (keys, bytes); past it that caller's oldest
     * answers go. Redis holds at most about (users + tokens) × the bytes for all of them.
     */
    IDEMPOTENCY_MAX_KEYS_PER_PRINCIPAL: positiveInt({ default: 2000 }),
    IDEMPOTENCY_MAX_BYTES_PER_PRINCIPAL: positiveInt({ default: 2 * 1024 * 1024 }),
    /**
     * Expensive writes one caller may send per minute, on all instances together (429
     * RATE_LIMITED beyond): device registrations (up to 1,000 devices each), batch adds (up to
     * 1,000 ids or a masterbox), bulk shipment creations, shipment request creations.
     */
    RATE_LIMIT_DEVICE_REGISTRATIONS_PER_MINUTE: positiveInt({ default: 60 }),
    RATE_LIMIT_BATCH_ADDS_PER_MINUTE: positiveInt({ default: 120 }),
    RATE_LIMIT_BULK_CREATIONS_PER_MINUTE: positiveInt({ default: 12 }),
    RATE_LIMIT_REQUEST_CREATIONS_PER_MINUTE: positiveInt({ default: 120 }),
    /** The web app's build (apps/web/dist), served at `/`; beside this app's build in the repository. */
    WEB_APP_DIR: str({ default: fileURLToPath(new URL('../../web/dist', import.meta.url)) }),
    /** Requests an instance sends itself before it reports ready, so it joins the balancer warm (warm-up.ts); 0: none. */
    WARM_UP_REQUESTS: nonNegativeInt({ default: 600 }),
    /**
     * Demonstration only (npm run rehearse -- --compare): sessions, caches and locks kept in each
     * process, as before TMS was stateless, to show what a deploy then does. Production refuses it.
     */
    TMS_DEMO_IN_PROCESS_STATE: demonstrationSwitch(ctx),
  }
}

export type ApiConfig = ReturnType<typeof readApiConfig>

export function readApiConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfigOrExit('api', apiEnv, env)
}
