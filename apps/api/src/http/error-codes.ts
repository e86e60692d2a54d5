import { WAREHOUSE_ERRORS } from '@tms/warehouse'
import { API_ERRORS } from './api-errors.js'

/**
 * Every code an error answer of this API can carry, with its status and what it means: the
 * contract clients (and the web app) rely on, documented in the OpenAPI document's error shape.
 * Codes of the libs' errors are defined with those errors; the meanings are collected here.
 */
export const ERROR_CODES = {
  ...Object.fromEntries(Object.entries(API_ERRORS).map(([code, status]) => [code, status])),
  ...Object.fromEntries(Object.entries(WAREHOUSE_ERRORS).map(([code, status]) => [code, status])),
  // The request itself
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  BAD_REQUEST: 400,
  BAD_URL: 400,
  PARAM_TOO_LONG: 414,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ROUTE_NOT_FOUND: 404,
  // @tms/storage
  DUPLICATE_KEY: 409,
  VERSION_CONFLICT: 409,
  FENCING_TOKEN_REJECTED: 409,
  RECORD_NOT_FOUND: 404,
  /** A record in a shape this version cannot read (written by a far newer release). */
  UNSUPPORTED_SCHEMA_VERSION: 500,
  DATABASE_UNAVAILABLE: 503,
  // @tms/locks
  ALREADY_RUNNING: 409,
  OBJECT_LOCKED: 409,
  NOT_LOCK_HOLDER: 409,
  HELD_LIMIT: 409,
  LOCK_TIMEOUT: 503,
  LOCK_LOST: 503,
  // @tms/jobs
  UNKNOWN_SCHEDULE: 404,
  // @tms/warehouse's password hashing: too many at once on this instance (retry-after)
  PASSWORD_HASHING_BUSY: 503,
  // Redis (ioredis's errors, recognised by @tms/redis)
  STORE_UNAVAILABLE: 503,
  // Anything else: ours, logged
  INTERNAL: 500,
} as Record<string, number>

/**
 * What callers read for errors whose own message names internals (tables, keys, holders):
 * the message is logged, this is answered.
 */
export const PUBLIC_MESSAGES: Record<string, string> = {
  DUPLICATE_KEY: 'a record with this key already exists',
  VERSION_CONFLICT: 'it was changed by someone else meanwhile; reload it and try again',
  FENCING_TOKEN_REJECTED: 'your claim was taken over meanwhile; nothing was changed',
  RECORD_NOT_FOUND: 'it does not exist (any more)',
  UNSUPPORTED_SCHEMA_VERSION: 'an unexpected error occurred; it has been logged',
  DATABASE_UNAVAILABLE: 'the database is unavailable; try again shortly',
  OBJECT_LOCKED: 'someone else holds it; try again later',
  NOT_LOCK_HOLDER: 'you do not hold it (any more)',
  HELD_LIMIT: 'you hold as many as one may; release one first',
  LOCK_TIMEOUT: 'the resource is busy; try again shortly',
  LOCK_LOST: 'the operation lost its lock and was stopped; try again',
  STORE_UNAVAILABLE: 'the session and cache store is unavailable; try again shortly',
  INTERNAL: 'an unexpected error occurred; it has been logged',
}
