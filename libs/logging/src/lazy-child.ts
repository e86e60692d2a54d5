import type { Bindings, ChildLoggerOptions, Logger } from 'pino'

type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type LogFn = (this: LazyChildLogger, ...args: unknown[]) => void

/**
 * A child logger that is only created when something is logged through it. Fastify makes a
 * child per request; with redaction configured, pino serializes its bindings at once, on every
 * request, even when the request never logs anything (`npm run bench:logging`).
 */
export class LazyChildLogger {
  #child: Logger | undefined

  constructor(
    readonly parent: Logger,
    readonly bindings: Bindings,
    readonly options?: ChildLoggerOptions,
  ) {}

  get logger(): Logger {
    this.#child ??= this.parent.child(this.bindings, this.options)
    return this.#child
  }

  get level(): string {
    return this.#child?.level ?? this.parent.level
  }

  set level(level: string) {
    this.logger.level = level
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.parent).isLevelEnabled(level)
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options)
  }

  declare fatal: LogFn
  declare error: LogFn
  declare warn: LogFn
  declare info: LogFn
  declare debug: LogFn
  declare trace: LogFn
  declare silent: LogFn
}

for (const method of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as Method[]) {
  LazyChildLogger.prototype[method] = function (this: LazyChildLogger, ...args: unknown[]) {
    if (!this.isLevelEnabled(method)) return
    ;(this.logger[method] as (...a: unknown[]) => void)(...args)
  }
}
LazyChildLogger.prototype.silent = () => {}

/** For Fastify's `childLoggerFactory`: request loggers that cost nothing until used. */
export function lazyChildLogger(parent: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
  return new LazyChildLogger(parent, bindings, options) as unknown as Logger
}
