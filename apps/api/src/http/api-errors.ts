import { TabledError } from '@tms/errors'

/** The API's own refusals (who is calling, login limits), each with its code and status. */
export const API_ERRORS = {
  /** No session cookie or Bearer token. */
  LOGIN_REQUIRED: 401,
  /** A Bearer token that is malformed, unknown or revoked. */
  INVALID_TOKEN: 401,
  /** A write a browser sent from another site (Sec-Fetch-Site, Origin): a page elsewhere using our cookie. */
  CROSS_SITE_REQUEST: 403,
  /** The caller's roles do not include the one the route needs. */
  ROLE_REQUIRED: 403,
  /** Only a person with a session may do this (not a machine token). */
  USER_ONLY: 403,
  /** Login: the email and password do not match. */
  WRONG_CREDENTIALS: 401,
  /** Login: too many failures (see docs/security.md); `retry-after` says when to try again. */
  TOO_MANY_LOGINS: 429,
  /** The thing named in the path does not exist. */
  NOT_FOUND: 404,
  /** An `Idempotency-Key` header that is not 8 to 64 letters, digits, `-` or `_`. */
  IDEMPOTENCY_KEY_INVALID: 400,
  /** An `Idempotency-Key` used before for a different request (method, path or body). */
  IDEMPOTENCY_KEY_REUSED: 422,
  /** The first request with this `Idempotency-Key` is still being answered; `retry-after` says when to ask again. */
  IDEMPOTENCY_KEY_IN_PROGRESS: 409,
  /** The principal holds its most idempotency keys, every one still in progress; `retry-after` says when to try again. */
  IDEMPOTENCY_KEYS_EXHAUSTED: 429,
  /**
   * A repeat of a key whose answer was too large to keep (past 32 KB deflated): the write was
   * done and is not done again; `idempotent-original-status` is the first answer's status.
   */
  IDEMPOTENT_ANSWER_NOT_KEPT: 409,
  /** Too many expensive writes of this principal in a minute (see docs/security.md); `retry-after` says when. */
  RATE_LIMITED: 429,
  /** A user's sessions could not be ended (Redis): the change that needed it was not made, or says so. */
  SESSIONS_NOT_ENDED: 503,
} as const

export type ApiErrorCode = keyof typeof API_ERRORS

export class ApiError extends TabledError<ApiErrorCode> {
  override name = 'ApiError'
  override readonly headers: Readonly<Record<string, string>>
  constructor(
    code: ApiErrorCode,
    message: string,
    /** Response headers that belong to the refusal, e.g. `retry-after`. */
    headers: Record<string, string> = {},
  ) {
    super(code, API_ERRORS, message)
    this.headers = headers
  }
}
