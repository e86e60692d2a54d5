import { hostname } from 'node:os'
import { EnvError, makeValidator, str } from 'envalid'
import type { EnvContext } from './load-config.js'
import {
  email,
  LOG_LEVELS,
  nonNegativeInt,
  parseSecretList,
  parseTrustProxy,
  portNumber,
  positiveInt,
  type TrustProxy,
  url,
} from './validators.js'

/** Well-known development values. Production refuses them, so a copied .env cannot leak into a real deploy. */
export const DEV_DEFAULTS = {
  SESSION_SECRETS: 'tms-dev-session-secret-do-not-use-in-production',
  ADMIN_EMAIL: 'admin@tms.local',
  ADMIN_PASSWORD: 'tms-admin-dev-password',
} as const

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tms'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

export function runtimeEnv(_ctx: EnvContext, defaults: { appVersion: string }) {
  return {
    NODE_ENV: str({ choices: ['development', 'test', 'production'], default: 'development' }),
    APP_VERSION: str({ default: defaults.appVersion }),
    INSTANCE_ID: str({ default: `${hostname()}-${process.pid}` }),
    LOG_LEVEL: str({ choices: LOG_LEVELS, default: 'info' }),
  }
}

export function redisEnv() {
  return {
    REDIS_URL: url(['redis', 'rediss'])({ default: DEFAULT_REDIS_URL }),
    /** Every key this system writes starts with it: several environments (or test runs) can share one Redis. */
    REDIS_KEY_PREFIX: str({ default: 'tms:' }),
  }
}

export function databaseEnv() {
  return {
    /** postgres:// (optionally ?schema=name) or mongodb:// — the scheme chooses the storage adapter. */
    DATABASE_URL: url(['postgres', 'postgresql', 'mongodb', 'mongodb+srv'])({ default: DEFAULT_DATABASE_URL }),
  }
}

export function httpEnv(ctx: EnvContext, defaults: { port: number }) {
  return {
    HOST: str({ default: ctx.production ? '0.0.0.0' : '127.0.0.1' }),
    PORT: portNumber({ default: defaults.port }),
    /**
     * Which proxies' X-Forwarded-For to believe: a hop count or their addresses. `true` believes
     * any, so every client could choose the address its login failures are counted under;
     * production refuses it.
     */
    TRUST_PROXY: makeValidator<TrustProxy>((raw) => {
      const value = parseTrustProxy(raw)
      if (value === true && ctx.production) {
        throw new EnvError('true lets any client choose its address; give a hop count or the proxies’ addresses')
      }
      return value
    })({ default: false }),
    /** How long a stopping instance keeps serving after readiness turns 503, so the load balancer moves away. */
    DRAIN_DELAY_MS: nonNegativeInt({ default: 5000 }),
    /** Upper bound for the whole shutdown; past it the process exits 1 naming what was still open. */
    SHUTDOWN_TIMEOUT_MS: positiveInt({ default: 30_000 }),
    /** Above AWS ALB's 60 s idle timeout, so the load balancer, never us, closes idle connections. */
    KEEP_ALIVE_TIMEOUT_MS: positiveInt({ default: 65_000 }),
  }
}

function refuseDevDefault<T>(ctx: EnvContext, devValue: string, inner: (raw: string) => T) {
  return makeValidator<T>((raw) => {
    if (ctx.production && raw.split(',').some((part) => part.trim() === devValue)) {
      throw new EnvError('uses the development default, which production refuses')
    }
    return inner(raw)
  })
}

export function sessionEnv(ctx: EnvContext) {
  const dev = (value: string) => (ctx.production ? undefined : value)
  const sessionSecrets = refuseDevDefault(ctx, DEV_DEFAULTS.SESSION_SECRETS, parseSecretList)
  const adminPassword = refuseDevDefault(ctx, DEV_DEFAULTS.ADMIN_PASSWORD, (raw) => {
    if (raw.length < 12) throw new EnvError('must be at least 12 characters')
    return raw
  })
  return {
    SESSION_SECRETS: sessionSecrets(ctx.production ? {} : { default: [DEV_DEFAULTS.SESSION_SECRETS] }),
    /** Sliding: every request refreshes it. 8 h is one warehouse shift. */
    SESSION_TTL_SECONDS: positiveInt({ default: 8 * 3600 }),
    /** Absolute: a session ends this long after its login, however active it is. */
    SESSION_MAX_AGE_SECONDS: positiveInt({ default: 12 * 3600 }),
    ADMIN_EMAIL: email({ default: dev(DEV_DEFAULTS.ADMIN_EMAIL) }),
    ADMIN_PASSWORD: adminPassword({ default: dev(DEV_DEFAULTS.ADMIN_PASSWORD) }),
  }
}

/** A switch that exists for demonstrations: off by default, and production refuses to start with it on. */
export function demonstrationSwitch(ctx: EnvContext) {
  return makeValidator<boolean>((raw) => {
    const value = raw.trim().toLowerCase()
    if (!['true', 'false', '1', '0'].includes(value)) throw new EnvError('must be true or false')
    const on = value === 'true' || value === '1'
    if (on && ctx.production) throw new EnvError('is a demonstration switch, which production refuses')
    return on
  })({ default: false })
}
