import type { CacheStats } from './cache-stats.js'

interface DriverFactoryResult {
  options: unknown
  factory: (config: unknown) => object
}

/**
 * Wraps a bentocache driver so every failed remote operation is counted. bentocache swallows
 * those failures (the point: requests keep working when Redis is down) and only logs them;
 * counting at the driver is the one place that sees each one.
 *
 * Also: bentocache's Redis driver disconnects the connection it was given when the cache
 * closes. That connection is the app's, shared with sessions and locks, and the app closes it
 * last in its own shutdown; here `disconnect` does nothing.
 */
export function countingDriver<T extends DriverFactoryResult>(
  driver: T,
  stats: CacheStats,
  health: { onError: (error: unknown) => void; onSuccess: () => void },
): T {
  const wrap = <D extends object>(target: D): D =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver)
        if (property === 'disconnect') return async () => {}
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          const result = value.apply(object, args)
          if (result && typeof (result as Promise<unknown>).then === 'function') {
            return (result as Promise<unknown>).then(
              (value) => {
                health.onSuccess()
                return value
              },
              (error: unknown) => {
                stats.remoteErrors++
                health.onError(error)
                throw error
              },
            )
          }
          // namespace() returns a new driver for that namespace: count its failures too.
          if (property === 'namespace' && result && typeof result === 'object') return wrap(result as object)
          return result
        }
      },
    })
  return { ...driver, factory: (config: unknown) => wrap(driver.factory(config)) }
}
