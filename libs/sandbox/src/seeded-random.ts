/**
 * mulberry32: a tiny, fast, seedable generator, enough for simulated data and load mixes; the
 * same seed gives the same sequence. Its own export path (`@tms/sandbox/seeded-random`), so the
 * shop simulator uses it without loading the database and Redis clients.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
