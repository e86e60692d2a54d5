export interface ConfigProblem {
  variable: string
  message: string
}

/** Every problem with the environment, found in one pass, so an operator fixes them all at once. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[]

  constructor(problems: ConfigProblem[]) {
    const list = problems.map((p) => `${p.variable}: ${p.message}`).join('; ')
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}
