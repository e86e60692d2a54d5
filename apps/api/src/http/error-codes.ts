import type { ErrorDefinition } from '@tms/errors'
import { JOB_ERRORS } from '@tms/jobs'
import { LOCK_ERRORS } from '@tms/locks'
import { STORAGE_ERRORS } from '@tms/storage'
import { WAREHOUSE_ERRORS } from '@tms/warehouse'
import { API_ERRORS } from './api-errors.js'

/**
 * Every family whose errors reach the API's answers, each table kept where its errors are
 * thrown. The contract clients (and the web app) rely on, documented in the OpenAPI document's
 * error shape.
 */
export const ERROR_TABLES = {
  '@tms/storage': STORAGE_ERRORS,
  '@tms/locks': LOCK_ERRORS,
  '@tms/jobs': JOB_ERRORS,
  '@tms/warehouse': WAREHOUSE_ERRORS,
  'apps/api': API_ERRORS,
} as const

/** Every code an error answer of this API can carry, with what it means; a code in two tables fails at load. */
export const ERROR_DEFINITIONS: Readonly<Record<string, ErrorDefinition>> = (() => {
  const all: Record<string, ErrorDefinition> = {}
  const where: Record<string, string> = {}
  for (const [family, table] of Object.entries(ERROR_TABLES)) {
    for (const [code, definition] of Object.entries(table as Record<string, ErrorDefinition>)) {
      if (where[code]) throw new Error(`error code ${code} is defined twice: in ${where[code]} and ${family}`)
      where[code] = family
      all[code] = definition
    }
  }
  return all
})()

/** Each code's HTTP status. */
export const ERROR_CODES: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(ERROR_DEFINITIONS).map(([code, definition]) => [code, definition.status]),
)
