export { Redis } from 'ioredis'
export {
  type CreateRedisOptions,
  closeRedis,
  connectRedis,
  createRedis,
  type RedisLogger,
  type RedisRole,
} from './create-redis.js'
export { isRedisUnavailable } from './errors.js'
export { Keyspace } from './keyspace.js'
export { LuaScript } from './lua-script.js'
