import {
  addressSchema,
  DEVICE_ID_PATTERN,
  dataProblemSchema,
  itemSchema,
  ROLES,
  shipmentRequestViewSchema,
  shipmentStatusSchema,
  shipmentViewSchema,
} from '@tms/warehouse'
import { ERROR_CODES } from '../http/error-codes.js'

/** Shared JSON schemas: request validation, response serialization and the OpenAPI document. */

export const uuid = { type: 'string', format: 'uuid' } as const
export const idParams = {
  type: 'object',
  properties: { id: uuid },
  required: ['id'],
  additionalProperties: false,
} as const

export const roles = {
  type: 'array',
  items: { type: 'string', enum: ROLES },
  minItems: 1,
  maxItems: ROLES.length,
  uniqueItems: true,
} as const

export const email = { type: 'string', format: 'email', maxLength: 254 } as const

/** Model numbers and editions as the catalogue writes them (the examples are in the catalogue). */
const catalogueWord = { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]{0,63}$' } as const
/** A device's id, or an innerbox's or a masterbox's, as labels print them. */
export const deviceId = { type: 'string', pattern: DEVICE_ID_PATTERN } as const
export const modelNumber = { ...catalogueWord, examples: ['TG5'] } as const
export const hardwareEdition = { ...catalogueWord, examples: ['BLACK-WORLDWIDE'] } as const

/**
 * A password someone chooses: long enough to be worth hashing, bounded so hashing is. Any
 * characters (NIST 800-63B): it is hashed, never stored or shown; `password` says so.
 */
export const newPassword = { type: 'string', format: 'password', minLength: 12, maxLength: 1024 } as const
/** A password someone types to prove who they are: whatever they once chose. */
export const password = { type: 'string', format: 'password', minLength: 1, maxLength: 1024 } as const

export const userView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    roles: { type: 'array', items: { type: 'string', enum: ROLES } },
    disabled: { type: 'boolean' },
  },
  required: ['id', 'email', 'roles'],
  additionalProperties: false,
} as const

export const errorBody = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: {
      type: 'string',
      enum: Object.keys(ERROR_CODES),
      description: 'Stable; what each means: README.md, "Error codes".',
    },
    error: { type: 'string' },
    message: { type: 'string' },
    /** What was wrong, field by field, shaped as a shipment request's data problems. */
    details: { type: 'array', items: dataProblemSchema },
  },
  required: ['statusCode', 'code', 'error', 'message'],
  additionalProperties: false,
} as const

/** Item and address: defined with the domain, whose bounds the worker applies to the web shop's orders too. */
export const item = itemSchema
export const address = addressSchema

/** The warehouse's views, defined with the domain: its types are derived from these schemas. */
export const shipmentRequestView = shipmentRequestViewSchema
export const shipmentStatus = shipmentStatusSchema
export const shipmentView = shipmentViewSchema

/** Shipping a shipment or a refurbishment batch: the carrier's tracking number. */
export const shipBody = {
  type: 'object',
  properties: { trackingNumber: { type: 'string', pattern: '^[A-Za-z0-9-]{4,40}$' } },
  required: ['trackingNumber'],
  additionalProperties: false,
} as const

/** A list answered whole, as `{ items }`. */
export const listOf = <const Item>(item: Item) =>
  ({
    type: 'object',
    properties: { items: { type: 'array', items: item } },
    required: ['items'],
    additionalProperties: false,
  }) as const

export const limitQuery = { type: 'integer', minimum: 1, maximum: 500, default: 100 } as const

/** A page of a long list: `cursor` is the `nextCursor` of the page before. */
export const cursorQuery = {
  cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,600}$' },
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
} as const

/** Error responses every protected route can give, for the OpenAPI document. */
export const authErrors = { 400: errorBody, 401: errorBody, 403: errorBody } as const
