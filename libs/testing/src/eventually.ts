import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `check` until it gives a value (anything but undefined, null or false; a check that
 * throws counts as not yet) and resolves with that value and how long it took. Tests wait for
 * the state they need, never a fixed time; the bound only ends a test that would otherwise hang,
 * so it is generous: on a busy machine a process's start alone takes seconds.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: { withinMs?: number; everyMs?: number; what?: string } = {},
): Promise<{ value: T; ms: number }> {
  const { withinMs = 60_000, everyMs = 50, what = 'the condition' } = options
  const started = Date.now()
  let lastError: unknown
  for (;;) {
    const value = await Promise.resolve()
      .then(check)
      .catch((error: unknown) => {
        lastError = error
        return undefined
      })
    if (value !== undefined && value !== null && value !== false) return { value, ms: Date.now() - started }
    if (Date.now() - started > withinMs) {
      throw new Error(`${what} did not hold within ${withinMs} ms`, lastError === undefined ? {} : { cause: lastError })
    }
    await sleep(everyMs)
  }
}
