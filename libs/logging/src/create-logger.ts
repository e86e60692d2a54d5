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

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: options.app, version: options.version, instance: options.instanceId, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  )
}

/** Resolves once every line logged so far has been written (pino writes asynchronously). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()))
}
