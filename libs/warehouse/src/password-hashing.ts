import { WarehouseError } from './errors.js'

/** Every password check or hash this instance runs at once waits its turn here. */
export interface HashingLimits {
  /**
   * Hashes at once per instance. Each scrypt at N=2^17 takes 128 MiB and about 0.4 s of a core:
   * the instance's memory limit is sized from this (docs/benchmarks.md).
   */
  concurrency: number
  /** How long a hash may wait for its turn; then PASSWORD_HASHING_BUSY (503, retry-after). */
  maxWaitMs: number
}

/** Too many logins and password changes at once on this instance: try again in a moment. */
export class PasswordHashingBusyError extends WarehouseError {
  override name = 'PasswordHashingBusyError'
  constructor(retryAfterSeconds: number) {
    super('PASSWORD_HASHING_BUSY', `too many password checks at once; try again in ${retryAfterSeconds} s`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    })
  }
}

/**
 * A bounded queue in front of scrypt: at most `concurrency` run at once, in arrival order; one
 * that waited `maxWaitMs` is refused instead. Fifty parallel logins used to run fifty scrypts
 * at once: 6.4 GiB asked of a container of 512 MiB.
 */
export class PasswordHashing {
  #running = 0
  readonly #waiting: Array<() => void> = []

  constructor(readonly limits: HashingLimits) {}

  /** How many hashes run now and wait now (for metrics and tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length }
  }

  async run<T>(hash: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limits.concurrency) await this.#turn()
    else this.#running++
    try {
      return await hash()
    } finally {
      const next = this.#waiting.shift()
      // The slot passes to the next in line as it is; otherwise it is free.
      if (next) next()
      else this.#running--
    }
  }

  #turn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const take = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(take)
        if (at >= 0) this.#waiting.splice(at, 1)
        // Back in a second: the queue turns over every few tenths of one.
        reject(new PasswordHashingBusyError(1))
      }, this.limits.maxWaitMs)
      this.#waiting.push(take)
    })
  }
}
