export { type CacheStats, emptyStats } from './cache-stats.js'
export {
  CACHE_SCHEMA_VERSION,
  type Cache,
  type CacheLogger,
  type Caches,
  type CachesOptions,
  createCaches,
  type Ttl,
} from './caches.js'
export { RedisBusTransport } from './redis-bus-transport.js'
