import { TabledError } from '@tms/errors'

/** Every rule of the warehouse a request can break, and the HTTP status it means. */
export const WAREHOUSE_ERRORS = {
  /** The shipment, request or user does not exist. */
  NOT_FOUND: 404,
  /** A user with this email exists already. */
  ALREADY_EXISTS: 409,
  /** The shipment is not in the status the step needs (packing a shipped one, …). */
  WRONG_STATUS: 409,
  /** Someone else wrote it since it was read: reload and try again. */
  CHANGED_MEANWHILE: 409,
  /** Another agent holds the claim on the shipment. */
  CLAIMED_BY_ANOTHER: 409,
  /** Packing needs a claim first. */
  CLAIM_NEEDED: 409,
  /** The caller's claim expired or was released. */
  CLAIM_LOST: 409,
  /** The agent holds the most claims one agent may. */
  TOO_MANY_CLAIMS: 409,
  /** Only the agent who packed a shipment or a batch, or an operator, ships it. */
  PACKED_BY_ANOTHER: 403,
  /** The model number and hardware edition are no product's in the catalogue. */
  UNKNOWN_MODEL: 422,
  /** A batch is packed only with devices in it. */
  BATCH_EMPTY: 409,
  /** One add takes at most MAX_DEVICES_PER_ADD devices; a masterbox holding more is added by id. */
  TOO_MANY_DEVICES: 409,
  /** A masterbox id that devices of several partners carry: the scan must name the partner (details list them). */
  AMBIGUOUS_MASTERBOX: 409,
  /** A list's cursor that the list never gave out. */
  INVALID_CURSOR: 400,
  /** The right password, but the account is disabled. */
  ACCOUNT_DISABLED: 403,
  /** The change would leave nobody able to administer (an admin disabling or demoting themselves). */
  SELF_LOCKOUT: 409,
  /** A password change needs the current password, and it was wrong. */
  WRONG_PASSWORD: 403,
  /** A user was disabled, but the tokens they created could not be revoked (the database): send it again. */
  TOKENS_NOT_REVOKED: 503,
} as const

export type WarehouseErrorCode = keyof typeof WAREHOUSE_ERRORS

/** A rule of the warehouse was broken by the request; its message is for the caller. */
export class WarehouseError extends TabledError<WarehouseErrorCode> {
  override name = 'WarehouseError'
  constructor(
    code: WarehouseErrorCode,
    message: string,
    details?: ReadonlyArray<{ field: string; message: string }>,
    options?: { cause?: unknown },
  ) {
    super(code, WAREHOUSE_ERRORS, message, details, options)
  }
}

export const notFound = (what: string, id: string) => new WarehouseError('NOT_FOUND', `${what} ${id} does not exist`)
