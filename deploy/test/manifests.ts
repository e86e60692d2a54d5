import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { REQUEST_TIMEOUT_MS } from '@tms/lifecycle'
import { scryptMemoryBytes } from '@tms/warehouse'

export const DEPLOY = fileURLToPath(new URL('../', import.meta.url))

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form documents, checked field by field
export type Doc = any

export function readJson(file: string): Doc {
  return JSON.parse(readFileSync(`${DEPLOY}${file}`, 'utf8'))
}

/** The longest request the API lets run: its requestTimeout, defined once in @tms/lifecycle. */
export function longestRequestMs(): number {
  return REQUEST_TIMEOUT_MS
}

/** What one password hash holds while it runs, at production's cost, in MiB: from @tms/warehouse. */
export function scryptMiB(): number {
  return scryptMemoryBytes() / 2 ** 20
}

/**
 * An API instance's resident memory besides its password hashes, rounded up from what
 * `npm run bench:attacks` measured (docs/benchmarks.md: 92 to 127 MiB idle after load, 351 MiB at
 * the peak of 50 logins with 2 hashes of 128 MiB at once).
 */
export const API_BASE_MIB = 128

/** A deep copy to break on purpose. */
export const clone = <T>(value: T): T => structuredClone(value)
