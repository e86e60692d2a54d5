import fastifyRateLimit from '@fastify/rate-limit'
import { type Keyspace, LuaScript } from '@tms/redis'
import type { FastifyInstance, FastifyRequest, preParsingAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { ApiError } from '../http/api-errors.js'

/** The expensive writes, each limited per caller and minute on all instances together. */
export const WRITE_LIMITS = {
  'device-registrations': 'device registrations',
  'batch-adds': 'additions to batches',
  'bulk-creations': 'bulk shipment creations',
  'request-creations': 'shipment requests',
} as const
export type WriteLimit = keyof typeof WRITE_LIMITS

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A preParsing hook that counts the caller's writes of `kind` in the current minute (all
     * instances) and refuses one past the limit with 429 RATE_LIMITED and retry-after. After
     * requireRole (onRequest) knows the caller, before the body is parsed.
     */
    writeLimit(kind: WriteLimit): preParsingAsyncHookHandler
  }
}

/**
 * KEYS: the counter. ARGV: the window ms. The count in this window (this request included) and
 * the ms until it ends: a fixed window, as @fastify/rate-limit's own Redis store counts.
 */
const COUNT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`
const COUNT_SCRIPT = new LuaScript('tms-write-limit-count', COUNT, 1)

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void

/**
 * A store for @fastify/rate-limit on our LuaScript: its own RedisStore defines its script with
 * ioredis's defineCommand, which breaks on the auto-pipelined connection every instance shares
 * (libs/redis/src/lua-script.ts says how it took an instance down).
 */
function windowStore(redis: Redis, keyspace: Keyspace) {
  return class RedisWindowStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      COUNT_SCRIPT.run<[number, number]>(redis, [keyspace.key(key)], [timeWindow]).then(
        ([current, ttl]) => callback(null, { current, ttl }),
        (error: Error) => callback(error),
      )
    }

    read(key: string, callback: Callback): void {
      Promise.all([redis.get(keyspace.key(key)), redis.pttl(keyspace.key(key))]).then(
        ([current, ttl]) => callback(null, { current: Number(current ?? 0), ttl: Math.max(0, ttl) }),
        (error: Error) => callback(error),
      )
    }

    /** One store for every limit: the key names the kind (keyGenerator below). */
    child(): RedisWindowStore {
      return this
    }
  }
}

/**
 * Per-caller limits on the expensive writes, with @fastify/rate-limit (its headers, retry-after
 * and counting), counted in Redis so that they hold across instances. Keyed by the caller's id
 * (user or token), never by address: a warehouse behind one NAT address is many callers.
 */
export const writeLimits = fp<{ keyspace: Keyspace; perMinute: Record<WriteLimit, number> }>(
  async (app: FastifyInstance, { keyspace, perMinute }) => {
    await app.register(fastifyRateLimit, {
      global: false,
      store: windowStore(app.redis, keyspace) as never,
      skipOnError: false,
      addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    })
    app.decorate('writeLimit', (kind: WriteLimit) => {
      const limit = app.rateLimit({
        max: perMinute[kind],
        timeWindow: 60_000,
        keyGenerator: (request: FastifyRequest) => `${kind}:${request.principal?.id ?? `ip:${request.ip}`}`,
        errorResponseBuilder: (_request, context) =>
          new ApiError('RATE_LIMITED', `more than ${context.max} ${WRITE_LIMITS[kind]} a minute; try again in ${context.after}`, {
            'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))),
          }),
      })
      return async function writeLimit(request, reply) {
        await limit.call(app, request, reply)
      } as preParsingAsyncHookHandler
    })
  },
  { name: 'tms-write-limits', fastify: '5.x', dependencies: ['@fastify/redis', 'tms-authentication'] },
)
