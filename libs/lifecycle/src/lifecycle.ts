import closeWithGrace from 'close-with-grace'

export interface LifecycleLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
  fatal(obj: object, msg: string): void
}

export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped'

export interface ShutdownStep {
  name: string
  run: () => Promise<void>
  /** What is still open while this step runs, for the timeout log line (e.g. "3 requests in flight"). */
  describePending?: () => string | undefined
}

export interface LifecycleOptions {
  logger: LifecycleLogger
  /** The whole shutdown is bounded by this; past it the process exits 1. */
  shutdownTimeoutMs: number
  /**
   * Waits until every log line is written. Logs are written asynchronously; at process.exit a
   * line still in flight can land after later ones or be lost (seen: "redis done" after
   * "complete"), so the last thing before exiting is this flush.
   */
  flushLogs?: () => Promise<void>
}

/**
 * The instance's life from start to exit. Readiness is false until `markReady()` and turns
 * false again the moment shutdown begins; steps then run in the order they were added, each
 * logged, all bounded by one timeout.
 */
export class Lifecycle {
  #state: LifecycleState = 'starting'
  readonly #steps: ShutdownStep[] = []
  readonly #finished = new Set<ShutdownStep>()
  readonly #logger: LifecycleLogger
  readonly #timeoutMs: number
  readonly #flushLogs: () => Promise<void>
  #shutdown: Promise<void> | undefined

  constructor(options: LifecycleOptions) {
    this.#logger = options.logger
    this.#timeoutMs = options.shutdownTimeoutMs
    this.#flushLogs = options.flushLogs ?? (async () => {})
  }

  get state(): LifecycleState {
    return this.#state
  }

  /** True while the load balancer should send traffic here. */
  get ready(): boolean {
    return this.#state === 'ready'
  }

  /** True from the first signal on: responses ask keep-alive clients to reconnect elsewhere. */
  get stopping(): boolean {
    return this.#state === 'draining' || this.#state === 'stopped'
  }

  markReady(): void {
    if (this.#state === 'starting') this.#state = 'ready'
  }

  /** Steps run in order; `first` puts a step ahead of those already added (e.g. stop serving before closing Redis). */
  addShutdownStep(step: ShutdownStep, position: 'first' | 'last' = 'last'): void {
    if (position === 'first') this.#steps.unshift(step)
    else this.#steps.push(step)
  }

  /** Names of steps not finished yet, with what each still holds open. */
  stillOpen(): string[] {
    return this.#steps
      .filter((s) => !this.#finished.has(s))
      .map((s) => {
        const detail = s.describePending?.()
        return detail ? `${s.name} (${detail})` : s.name
      })
  }

  /** Runs the shutdown once; later calls wait for the same run. Throws if a step failed. */
  shutdown(reason: string): Promise<void> {
    this.#shutdown ??= this.#runSteps(reason)
    return this.#shutdown
  }

  async #runSteps(reason: string): Promise<void> {
    const started = Date.now()
    this.#state = 'draining'
    this.#logger.info({ phase: 'readiness-off', reason }, 'shutdown: readiness now answers 503')
    const failures: string[] = []
    for (const step of this.#steps) {
      const stepStarted = Date.now()
      this.#logger.info({ phase: step.name }, `shutdown: ${step.name} started`)
      try {
        await step.run()
        this.#logger.info({ phase: step.name, ms: Date.now() - stepStarted }, `shutdown: ${step.name} done`)
      } catch (error) {
        failures.push(step.name)
        this.#logger.error({ phase: step.name, err: error }, `shutdown: ${step.name} failed`)
      } finally {
        this.#finished.add(step)
      }
    }
    this.#state = 'stopped'
    this.#logger.info({ phase: 'done', ms: Date.now() - started, failures }, 'shutdown: complete')
    if (failures.length > 0) throw new Error(`shutdown steps failed: ${failures.join(', ')}`)
  }

  /**
   * SIGTERM/SIGINT start the shutdown; exit 0 when every step succeeded. A second signal exits 1
   * at once; past the timeout the process exits 1 with a line naming what was still open.
   * An uncaught error also shuts down gracefully, then exits 1.
   */
  installSignalHandlers(): void {
    const logger = this.#logger
    closeWithGrace(
      {
        delay: this.#timeoutMs,
        logger: false,
        onTimeout: (delay: number) => {
          logger.fatal({ phase: 'timeout', timeoutMs: delay, stillOpen: this.stillOpen() }, 'shutdown: timed out; exiting 1')
        },
        onSecondSignal: (signal: string) => {
          logger.fatal(
            { phase: 'second-signal', signal, stillOpen: this.stillOpen() },
            `shutdown: second ${signal}; exiting at once`,
          )
        },
        onSecondError: (error: unknown) => {
          logger.fatal({ phase: 'second-error', err: error }, 'shutdown: error during shutdown; exiting at once')
        },
      },
      async ({ signal, err }) => {
        if (err) logger.fatal({ err }, 'uncaught error; shutting down')
        try {
          await this.shutdown(signal ?? (err ? 'uncaught error' : 'exit'))
        } finally {
          await this.#flushLogs()
        }
      },
    )
  }
}
