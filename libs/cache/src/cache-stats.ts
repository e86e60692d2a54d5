/** What the caches did since start; operators read it at GET /admin/cache. */
export interface CacheStats {
  hits: number
  misses: number
  /** Loader calls: misses that had to compute the value. */
  loads: number
  /** Remote (Redis) operations that failed; the cache answered from the loader instead. */
  remoteErrors: number
  /** Loads that happened while the remote store was failing. */
  fallbacks: number
}

export function emptyStats(): CacheStats {
  return { hits: 0, misses: 0, loads: 0, remoteErrors: 0, fallbacks: 0 }
}
