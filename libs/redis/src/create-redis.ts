import { type Command, Redis, type RedisOptions } from 'ioredis'

/** The subset of a pino logger this lib needs, so it does not depend on the logging lib. */
export interface RedisLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** A request-path command answers within this or fails (a 503, not a hang). */
export const REDIS_COMMAND_TIMEOUT_MS = 2000

export type RedisRole =
  /**
   * Request path: every command answers within REDIS_COMMAND_TIMEOUT_MS or fails (a 503, not a hang), with one
   * retry across a reconnect. See `resetOnTimeout` for why a timeout also resets the connection.
   */
  | 'command'
  /** Pub/sub subscriber: no command timeout (it blocks by design), reconnects forever. */
  | 'subscriber'
  /** BullMQ requires maxRetriesPerRequest null for blocking connections. */
  | 'blocking'

export interface CreateRedisOptions {
  /** Shown in CLIENT LIST, e.g. `api:host-123:command`. */
  connectionName: string
  role?: RedisRole
  logger?: RedisLogger
  /** Extra ioredis options for a specific use; wins over the defaults. */
  overrides?: RedisOptions
}

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  command: {
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: true,
    enableAutoPipelining: true,
  },
  subscriber: { maxRetriesPerRequest: null, enableOfflineQueue: true },
  blocking: { maxRetriesPerRequest: null, enableOfflineQueue: true },
}

export function createRedis(url: string, options: CreateRedisOptions): Redis {
  const role = options.role ?? 'command'
  const redis = new Redis(url, {
    connectionName: options.connectionName,
    connectTimeout: 2000,
    keepAlive: 5000,
    // Back off to 1 s at most: after an outage, service comes back within a second of Redis.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
    lazyConnect: true,
    ...ROLE_OPTIONS[role],
    ...options.overrides,
  })
  watchConnection(redis, options)
  if (role === 'command') resetOnTimeout(redis, options)
  return redis
}

/**
 * A command that timed out may never have reached Redis (a silent network drops packets but
 * keeps the TCP connection). ioredis rejects it yet keeps it queued, so once the network heals
 * each reply is matched to the command before it, forever (the API never recovered, in the
 * fault test's first version).
 * A timeout therefore means the connection cannot be trusted: drop it and reconnect clean.
 * Commands cut off this way are not replayed (they may have run); they fail by their timeout.
 */
function resetOnTimeout(redis: Redis, options: CreateRedisOptions): void {
  const send = redis.sendCommand.bind(redis)
  redis.sendCommand = ((command: Command, stream?: unknown) => {
    // Wrapping reject (not command.promise.catch) costs no extra promise per command.
    const reject = command.reject
    command.reject = (error: Error) => {
      if (error?.message === 'Command timed out' && (redis.status === 'ready' || redis.status === 'connect')) {
        options.logger?.warn({ redis: options.connectionName }, 'redis command timed out; reconnecting')
        redis.disconnect(true)
      }
      reject(error)
    }
    return send(command, stream as never)
  }) as typeof redis.sendCommand
}

/** Logs state changes once per change, not once per failed reconnect attempt. */
function watchConnection(redis: Redis, options: CreateRedisOptions): void {
  const log = options.logger
  const context = { redis: options.connectionName }
  let healthy = true
  redis.on('ready', () => {
    if (!healthy) log?.info(context, 'redis connection restored')
    healthy = true
  })
  redis.on('error', (error: Error) => {
    // A listener must exist: ioredis re-emits connection errors and an unhandled 'error' would crash the process.
    if (healthy) log?.warn({ ...context, err: error.message }, 'redis connection lost; reconnecting')
    healthy = false
  })
}

/** Connects, or fails with a clear error after `timeoutMs` instead of retrying silently forever. */
export async function connectRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return
  if (redis.status === 'wait') void redis.connect().catch(() => undefined)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`redis not reachable after ${timeoutMs} ms (${redis.options.host}:${redis.options.port})`))
    }, timeoutMs)
    const onReady = () => {
      cleanup()
      resolve()
    }
    const cleanup = () => {
      clearTimeout(timer)
      redis.off('ready', onReady)
    }
    redis.on('ready', onReady)
  })
}

/** QUIT politely, but never wait longer than `timeoutMs` for a Redis that is gone. */
export async function closeRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  if (redis.status === 'end') return
  const timer = setTimeout(() => redis.disconnect(), timeoutMs)
  try {
    await redis.quit()
  } catch {
    redis.disconnect()
  } finally {
    clearTimeout(timer)
  }
}
