import { type CodedErrorOptions, defineErrors, TabledError } from '@tms/errors'

/** Every rule of the warehouse a request can break, and the HTTP status it means. */
export const WAREHOUSE_ERRORS = defineErrors({
  /** The thing named (a shipment, request, user, token, session) does not exist. */
  NOT_FOUND: { status: 404 },
  /** A user with this email exists already. */
  ALREADY_EXISTS: { status: 409 },
  /** The shipment is not in the status the step needs (packing a shipped one, …). */
  WRONG_STATUS: { status: 409 },
  /** Someone else wrote it since it was read: reload and try again. */
  CHANGED_MEANWHILE: { status: 409 },
  /** Another agent holds the claim on the shipment. */
  CLAIMED_BY_ANOTHER: { status: 409 },
  /** Packing needs a claim first. */
  CLAIM_NEEDED: { status: 409 },
  /** The caller's claim expired or was released. */
  CLAIM_LOST: { status: 409 },
  /** The agent holds the most claims one agent may. */
  TOO_MANY_CLAIMS: { status: 409 },
  /** Only the agent who packed a shipment or a batch, or an operator, ships it. */
  PACKED_BY_ANOTHER: { status: 403 },
  /** The model number and hardware edition are no product's in the catalogue. */
  UNKNOWN_MODEL: { status: 422 },
  /** A batch is packed only with devices in it. */
  BATCH_EMPTY: { status: 409 },
  /** One add takes at most MAX_DEVICES_PER_ADD devices; a masterbox holding more is added by id. */
  TOO_MANY_DEVICES: { status: 409 },
  /** A masterbox id that devices of several partners carry: the scan must name the partner (details list them). */
  AMBIGUOUS_MASTERBOX: { status: 409 },
  /** The right password, but the account is disabled. */
  ACCOUNT_DISABLED: { status: 403 },
  /** The change would leave nobody able to administer (an admin disabling or demoting themselves). */
  SELF_LOCKOUT: { status: 409 },
  /** A password change needs the current password, and it was wrong. */
  WRONG_PASSWORD: { status: 403 },
  /** A user was disabled, but the tokens they created could not be revoked (the database): send it again. */
  TOKENS_NOT_REVOKED: { status: 503 },
  /** Too many password checks at once on this instance; `retry-after` says when to come back. */
  PASSWORD_HASHING_BUSY: { status: 503 },
})

export type WarehouseErrorCode = keyof typeof WAREHOUSE_ERRORS

/** A rule of the warehouse was broken by the request; its message is for the caller. */
export class WarehouseError extends TabledError<WarehouseErrorCode> {
  override name = 'WarehouseError'
  constructor(code: WarehouseErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, WAREHOUSE_ERRORS, message, options)
  }
}

export const notFound = (what: string, id: string) => new WarehouseError('NOT_FOUND', `${what} ${id} does not exist`)
