export { Redis } from 'ioredis'
export {
  type CreateRedisOptions,
  closeRedis,
  connectRedis,
  createRedis,
  REDIS_COMMAND_TIMEOUT_MS,
  type RedisLogger,
  type RedisRole,
} from './create-redis.js'
export { isRedisUnavailable } from './errors.js'
export { Keyspace } from './keyspace.js'
export { LuaScript } from './lua-script.js'
