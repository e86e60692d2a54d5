import {
  addressSchema,
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

/** A password someone chooses: long enough to be worth hashing, bounded so hashing is. */
export const newPassword = { type: 'string', minLength: 12, maxLength: 1024 } as const

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
    details: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
        required: ['field', 'message'],
        additionalProperties: false,
      },
    },
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

export const limitQuery = { type: 'integer', minimum: 1, maximum: 500, default: 100 } as const

/** A page of a long list: `cursor` is the `nextCursor` of the page before. */
export const cursorQuery = {
  cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,600}$' },
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
} as const

/** Error responses every protected route can give, for the OpenAPI document. */
export const authErrors = { 400: errorBody, 401: errorBody, 403: errorBody } as const
