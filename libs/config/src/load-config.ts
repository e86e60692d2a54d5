import { type CleanedEnv, cleanEnv, EnvMissingError, type ValidatorSpec } from 'envalid'
import { ConfigError } from './config-error.js'

export interface EnvContext {
  /** NODE_ENV=production: dev-default secrets are refused and must be set explicitly. */
  production: boolean
}

type Specs = Record<string, ValidatorSpec<unknown>>

export type Env = Record<string, string | undefined>

/**
 * Validates the environment against the specs built for it. Throws a ConfigError listing
 * every missing or invalid variable by name; never returns a half-valid config.
 */
export function loadConfig<S extends Specs>(build: (ctx: EnvContext) => S, env: Env = process.env): CleanedEnv<S> {
  const ctx: EnvContext = { production: env.NODE_ENV === 'production' }
  return cleanEnv(env, build(ctx), {
    reporter: ({ errors }) => {
      const problems = Object.entries(errors).map(([variable, error]) => ({
        variable,
        message: error instanceof EnvMissingError ? 'is required but not set' : (error?.message ?? 'is invalid'),
      }))
      if (problems.length > 0) throw new ConfigError(problems.sort((a, b) => a.variable.localeCompare(b.variable)))
    },
  }) as CleanedEnv<S>
}

/**
 * For entry points: on a bad environment, print one JSON line naming every problem and exit 1,
 * before anything connects or listens.
 */
export function loadConfigOrExit<S extends Specs>(
  app: string,
  build: (ctx: EnvContext) => S,
  env: Env = process.env,
): CleanedEnv<S> {
  try {
    return loadConfig(build, env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), app, msg: error.message, problems: error.problems })}\n`,
    )
    process.exit(1)
  }
}
