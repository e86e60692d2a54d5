export { deleteKeys, dropSchema, seededRandom, uniqueName } from '@tms/sandbox'
export { generousBound } from './bounds.js'
export { ChildService, type ChildServiceOptions, type LogLine, startChildService } from './child-service.js'
export { eventually } from './eventually.js'
export { freePort } from './free-port.js'
export {
  ensureTestDatabase,
  isolatedDatabaseUrl,
  isolatedRedisPrefix,
  sqlClient,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from './isolation.js'
export { startTcpProxy, TcpProxy } from './tcp-proxy.js'
