import { LockLostError } from './errors.js'
import type { FencedMutex } from './fenced-mutex.js'

export interface KeeperLogger {
  warn(obj: object, msg: string): void
}

/**
 * Keeps a held lock alive while its action runs: refreshes every ttl/3, each refresh bounded by
 * ttl/3. Anything but a confirmed refresh (the key expired or was deleted, Redis refused or did
 * not answer in time) aborts the signal at once with a LockLostError. Worst case the action
 * learns of the loss 2/3 of a TTL after the last confirmation: before the lock could pass to
 * anyone else. No timer here can throw: a failure is a loss, never an unhandled rejection.
 */
export class LockKeeper {
  readonly #controller = new AbortController()
  readonly #mutex: FencedMutex
  readonly #intervalMs: number
  readonly #logger: KeeperLogger | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(mutex: FencedMutex, ttlMs: number, logger?: KeeperLogger) {
    this.#mutex = mutex
    this.#intervalMs = Math.max(10, Math.floor(ttlMs / 3))
    this.#logger = logger
    this.#schedule()
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Rejects with LockLostError when the lock is lost; never settles otherwise. */
  lost(): Promise<never> {
    const signal = this.#controller.signal
    const lost = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason)
      else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
    lost.catch(() => {}) // whoever races it sees the rejection; an unobserved loss is not an error
    return lost
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#refresh(), this.#intervalMs)
    this.#timer.unref()
  }

  async #refresh(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      this.#mutex.refresh().then(
        (held) => (held ? 'held' : 'the lock expired or was taken'),
        (error: unknown) => `Redis did not confirm it: ${(error as Error).message}`,
      ),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`Redis did not answer the refresh within ${this.#intervalMs} ms`), this.#intervalMs)
      }),
    ])
    clearTimeout(timer)
    if (this.#stopped) return
    if (outcome === 'held') {
      this.#schedule()
      return
    }
    this.#logger?.warn({ lock: this.#mutex.key, reason: outcome }, 'lock lost; aborting its action')
    this.#controller.abort(new LockLostError(this.#mutex.key, outcome))
  }
}
