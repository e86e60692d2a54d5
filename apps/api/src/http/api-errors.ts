import { defineErrors, TabledError } from '@tms/errors'

/** The API's own answers: the request itself, who is calling, its limits, and what is ours. */
export const API_ERRORS = defineErrors({
  // The request itself
  /** The body, query or path does not fit the schema; `details` name the field. */
  VALIDATION_FAILED: { status: 400 },
  INVALID_JSON: { status: 400 },
  BAD_REQUEST: { status: 400 },
  BAD_URL: { status: 400 },
  PARAM_TOO_LONG: { status: 414 },
  BODY_TOO_LARGE: { status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  ROUTE_NOT_FOUND: { status: 404 },
  // Who is calling
  /** No session cookie or Bearer token. */
  LOGIN_REQUIRED: { status: 401 },
  /** A Bearer token that is malformed, unknown, expired or revoked. */
  INVALID_TOKEN: { status: 401 },
  /** A write a browser sent from another site (Sec-Fetch-Site, Origin): a page elsewhere using our cookie. */
  CROSS_SITE_REQUEST: { status: 403 },
  /** The caller's roles do not include the one the route needs. */
  ROLE_REQUIRED: { status: 403 },
  /** Only a person with a session may do this (not a machine token). */
  USER_ONLY: { status: 403 },
  /** Login: the email and password do not match. */
  WRONG_CREDENTIALS: { status: 401 },
  // Limits
  /** Login: too many failures (see docs/security.md); `retry-after` says when to try again. */
  TOO_MANY_LOGINS: { status: 429 },
  /** Too many expensive writes of this caller in a minute (see docs/security.md); `retry-after` says when. */
  RATE_LIMITED: { status: 429 },
  /** An `Idempotency-Key` header that is not 8 to 64 letters, digits, `-` or `_`. */
  IDEMPOTENCY_KEY_INVALID: { status: 400 },
  /** An `Idempotency-Key` used before for a different request (method, path or body). */
  IDEMPOTENCY_KEY_REUSED: { status: 422 },
  /** The first request with this `Idempotency-Key` is still being answered; `retry-after` says when to ask again. */
  IDEMPOTENCY_KEY_IN_PROGRESS: { status: 409 },
  /** The caller holds its most idempotency keys, every one still in progress; `retry-after` says when to try again. */
  IDEMPOTENCY_KEYS_EXHAUSTED: { status: 429 },
  /**
   * A repeat of a key whose answer was too large to keep (past 32 KB deflated): the write was
   * done and is not done again; `idempotent-original-status` is the first answer's status.
   */
  IDEMPOTENT_ANSWER_NOT_KEPT: { status: 409 },
  // Ours
  /** A user's sessions could not be ended (Redis): the change that needed it was not made, or says so. */
  SESSIONS_NOT_ENDED: { status: 503 },
  /** Redis could not be reached or did not answer (ioredis's errors, recognised by @tms/redis). */
  STORE_UNAVAILABLE: { status: 503, publicMessage: 'the session and cache store is unavailable; try again shortly' },
  /** Anything else: ours, logged, and the answer names nothing inside. */
  INTERNAL: { status: 500, publicMessage: 'an unexpected error occurred; it has been logged' },
})

export type ApiErrorCode = keyof typeof API_ERRORS

export class ApiError extends TabledError<ApiErrorCode> {
  override name = 'ApiError'
  constructor(
    code: ApiErrorCode,
    message: string,
    /** Response headers that belong to the refusal, e.g. `retry-after`. */
    headers: Record<string, string> = {},
  ) {
    super(code, API_ERRORS, message, { headers })
  }
}
