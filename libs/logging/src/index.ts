export { createLogger, flushLogger, type Logger, type LoggerOptions, REDACTED_PATHS } from './create-logger.js'
export { LazyChildLogger, lazyChildLogger } from './lazy-child.js'
