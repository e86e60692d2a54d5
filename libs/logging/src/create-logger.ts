import { type DestinationStream, type Logger, pino } from 'pino'

export type { Logger } from 'pino'

export interface LoggerOptions {
  app: string
  version: string
  instanceId: string
  level?: string
  /** Tests pass a stream to read lines back; production writes to stdout. */
  destination?: DestinationStream
}

/**
 * Anything that can carry a credential. pino's redaction is path based, so the common
 * nestings (request headers, bodies, one level of wrapping) are listed explicitly.
 */
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-token"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'cookie',
  'cookies',
  'authorization',
  'password',
  'secret',
  'secrets',
  'token',
  'sessionId',
  '*.cookie',
  '*.cookies',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.sessionId',
  '*.*.password',
  '*.*.secret',
  '*.*.token',
]

/**
 * An error as pino writes it (message, stack, own fields, causes), without the arguments of a
 * Redis command: ioredis puts `command: { name, args }` on its errors (a refused reply, an
 * aborted command), and the arguments are keys and values: session ids, a session's contents.
 * The command's name stays: it is what tells what failed.
 */
export function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error)
  return withoutCommandArguments(serialized, 0)
}

function withoutCommandArguments(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > 5) return value
  if (Array.isArray(value)) return value.map((item) => withoutCommandArguments(item, depth + 1))
  const object = value as Record<string, unknown>
  const copy: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(object)) {
    if (key === 'command' && typeof field === 'object' && field !== null && 'args' in field) {
      const { args, ...rest } = field as { args?: unknown[] }
      copy[key] = { ...rest, args: `[${Array.isArray(args) ? args.length : 0} redacted]` }
    } else {
      copy[key] = withoutCommandArguments(field, depth + 1)
    }
  }
  return copy
}

/**
 * stdout is written in batches: one write(2) per line took about a twentieth of an API
 * instance's CPU in the deploy rehearsal's profiles, and woke whatever reads the pipe as often
 * (bench/logging: batched / per-line = 0.56 of the CPU per line, both sides counted). Lines wait
 * until 4 KiB have gathered or at most LOG_BATCH_MS. At exit pino writes what is left
 * synchronously; only a SIGKILL loses the last fraction of a second.
 */
const LOG_BATCH_BYTES = 4096
const LOG_BATCH_MS = 200

/** The stdout destinations we created, so the last act before exit can wait for them. */
const ownDestinations = new WeakMap<Logger, ReturnType<typeof pino.destination>>()

export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination ?? pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_BATCH_MS })
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { app: options.app, version: options.version, instance: options.instanceId, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  )
  if (!options.destination) ownDestinations.set(logger, destination as ReturnType<typeof pino.destination>)
  return logger
}

/**
 * The last thing before process.exit: resolves once every line logged so far is written, then
 * closes stdout's log stream. pino writes asynchronously, and its `flush(cb)` does not wait for
 * a write in flight; at exit the remaining lines were then written before the one in flight
 * (seen: "redis done" after "complete"). Ending the stream does wait: it writes the batch that
 * is gathering and closes only after the write in flight.
 */
export function flushLogger(logger: Logger, timeoutMs = 2000): Promise<void> {
  const destination = ownDestinations.get(logger)
  if (!destination) return new Promise((resolve) => logger.flush(() => resolve()))
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    destination.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    destination.end()
  })
}
