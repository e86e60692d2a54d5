import { addressSchema, itemSchema, ROLES } from '@tms/warehouse'

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

export const userView = {
  type: 'object',
  properties: { id: { type: 'string' }, email: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } } },
  required: ['id', 'email', 'roles'],
} as const

export const errorBody = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
  required: ['statusCode', 'error', 'message'],
} as const

/** Item and address: defined with the domain, whose bounds the worker applies to the web shop's orders too. */
export const item = itemSchema
export const address = addressSchema

const problem = { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } as const
const nullableString = { type: ['string', 'null'] } as const

export const shipmentRequestView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    orderId: { type: 'string' },
    status: { type: 'string', enum: ['OPEN', 'DONE'] },
    items: { type: 'array', items: item },
    address,
    errors: { type: 'array', items: problem },
    shipmentId: nullableString,
    createdAt: { type: 'string' },
  },
  required: ['id', 'orderId', 'status', 'errors'],
} as const

export const shipmentStatus = { type: 'string', enum: ['PENDING', 'PACKED', 'SHIPPED'] } as const

export const shipmentView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    requestId: { type: 'string' },
    orderId: { type: 'string' },
    status: shipmentStatus,
    items: { type: 'array', items: item },
    address,
    packedBy: nullableString,
    packedById: nullableString,
    packedAt: nullableString,
    trackingNumber: nullableString,
    shippedAt: nullableString,
    shopNotifiedAt: nullableString,
    createdAt: { type: 'string' },
    version: { type: 'integer' },
  },
  required: ['id', 'status', 'orderId'],
} as const

export const limitQuery = { type: 'integer', minimum: 1, maximum: 500, default: 100 } as const

/** Error responses every protected route can give, for the OpenAPI document. */
export const authErrors = { 400: errorBody, 401: errorBody, 403: errorBody } as const
