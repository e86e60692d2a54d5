/**
 * The bound a test asserts for something that must happen within a configured time (a command
 * fails within its timeout, a lost lock is signalled within its TTL): three times the configured
 * value, never under 2 s. Tight enough to catch a mechanism that waits for the wrong thing (a
 * retry loop, a timeout twice as long), loose enough that a busy shared machine does not fail it.
 * Tests assert no other timing: how fast is measured by the benchmarks.
 */
export function generousBound(configuredMs: number): number {
  return Math.max(3 * configuredMs, 2000)
}
