import { EnvError, makeValidator } from 'envalid'
import { parseDuration } from './duration.js'

function integer(min: number, max: number, what: string, problem?: (value: number) => string | undefined) {
  return makeValidator<number>((raw) => {
    if (!/^\s*-?\d+\s*$/.test(raw)) throw new EnvError(`must be ${what} (got "${raw}")`)
    const value = Number(raw)
    if (value < min || value > max) throw new EnvError(`must be ${what} (got "${raw}")`)
    const refused = problem?.(value)
    if (refused) throw new EnvError(refused)
    return value
  })
}

/** An integer in [min, max]; `problem` may refuse a value in range for a reason of its own (its message). */
export const integerBetween = (min: number, max: number, problem?: (value: number) => string | undefined) =>
  integer(min, max, `an integer from ${min} to ${max}`, problem)

export const positiveInt = integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer')
export const nonNegativeInt = integer(0, Number.MAX_SAFE_INTEGER, 'an integer >= 0')
/** 0 asks the OS for a free port, which tests and the local cluster rely on. */
export const portNumber = integer(0, 65535, 'a port number between 0 and 65535')

export const duration = makeValidator<number>((raw) => {
  const ms = parseDuration(raw)
  if (ms === undefined) throw new EnvError(`must be a duration such as 500ms, 1s, 5m or 1h (got "${raw}")`)
  return ms
})

/**
 * A URL of one of `protocols`. `credentials: false` refuses a user or password in it (a URL is
 * logged and shown in errors; its credentials belong in a variable of their own).
 */
export const url = (protocols: readonly string[], options: { credentials?: boolean } = {}) =>
  makeValidator<string>((raw) => {
    let parsed: URL
    try {
      parsed = new URL(raw)
    } catch {
      throw new EnvError(`must be a URL (${protocols.join(', ')})`)
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new EnvError(`must use one of ${protocols.join(', ')} (got "${parsed.protocol}")`)
    }
    if (options.credentials === false && (parsed.username || parsed.password)) {
      throw new EnvError('must not hold a user or password: give them in their own variable')
    }
    return raw
  })

/** Comma-separated list; the first entry signs, all verify. Blank entries are a mistake, not padding. */
export function parseSecretList(raw: string): string[] {
  const secrets = raw.split(',').map((s) => s.trim())
  if (secrets.length === 0 || secrets.some((s) => s.length === 0)) {
    throw new EnvError('must be a comma-separated list of non-empty secrets')
  }
  const short = secrets.findIndex((s) => s.length < 32)
  if (short !== -1) throw new EnvError(`secret #${short + 1} is shorter than 32 characters`)
  return secrets
}
export const secretList = makeValidator<string[]>(parseSecretList)

export type TrustProxy = boolean | number | string

/** Same forms Fastify accepts: true/false, a hop count, or a comma list of addresses/CIDRs. */
export function parseTrustProxy(raw: string): TrustProxy {
  const value = raw.trim()
  if (value === 'true') return true
  if (value === 'false' || value === '') return false
  if (/^\d+$/.test(value)) return Number(value)
  if (/^[0-9a-fA-F.:/,\s]+$/.test(value)) return value
  throw new EnvError('must be true, false, a hop count or a comma-separated list of addresses')
}
export const trustProxy = makeValidator<TrustProxy>(parseTrustProxy)

export const email = makeValidator<string>((raw) => {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw) || raw.length > 254) throw new EnvError('must be an email address')
  return raw.toLowerCase()
})

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** A comma list of web origins (`https://host[:port]`): scheme, host and port, nothing else. */
export const origins = makeValidator<string[]>((raw) => {
  const list = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
  for (const origin of list) {
    let parsed: URL
    try {
      parsed = new URL(origin)
    } catch {
      throw new EnvError(`"${origin}" is not an origin such as https://tms.example.com`)
    }
    if (!['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      throw new EnvError(`"${origin}" is not an origin (scheme, host and port only), such as https://tms.example.com`)
    }
  }
  return list.map((origin) => origin.replace(/\/$/, ''))
})
