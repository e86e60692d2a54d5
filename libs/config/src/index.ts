export { bool, str } from 'envalid'
export { chromiumLaunchOptions, chromiumPath } from './chromium.js'
export { ConfigError, type ConfigProblem } from './config-error.js'
export { parseDuration } from './duration.js'
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_REDIS_URL,
  DEV_DEFAULTS,
  databaseEnv,
  demonstrationSwitch,
  httpEnv,
  redisEnv,
  runtimeEnv,
  sessionEnv,
} from './env-groups.js'
export { type Env, type EnvContext, loadConfig, loadConfigOrExit } from './load-config.js'
export {
  duration,
  email,
  integerBetween,
  LOG_LEVELS,
  nonNegativeInt,
  origins,
  portNumber,
  positiveInt,
  secretList,
  type TrustProxy,
  trustProxy,
  url,
} from './validators.js'
