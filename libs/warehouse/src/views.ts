import type { FromSchema } from 'json-schema-to-ts'
import { addressSchema, itemSchema } from './request-schemas.js'

/**
 * What the warehouse shows of its records, as JSON schemas: the API serializes and documents
 * its answers with them, and the TypeScript types below are derived from them, so the two
 * cannot drift apart.
 */

const nullableString = { type: ['string', 'null'] } as const

export const shipmentStatusSchema = { type: 'string', enum: ['PENDING', 'PACKED', 'SHIPPED'] } as const

export const shipmentViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    requestId: { type: 'string' },
    orderId: { type: 'string' },
    status: shipmentStatusSchema,
    items: { type: 'array', items: itemSchema },
    address: addressSchema,
    /** The packing agent's name, for people. */
    packedBy: nullableString,
    /** The packing agent's id: who may ship it besides an operator. */
    packedById: nullableString,
    packedAt: nullableString,
    trackingNumber: nullableString,
    shippedAt: nullableString,
    shopNotifiedAt: nullableString,
    createdAt: { type: 'string' },
    version: { type: 'integer' },
  },
  required: [
    'id',
    'requestId',
    'orderId',
    'status',
    'items',
    'address',
    'packedBy',
    'packedById',
    'packedAt',
    'trackingNumber',
    'shippedAt',
    'shopNotifiedAt',
    'createdAt',
    'version',
  ],
  additionalProperties: false,
} as const

export type ShipmentView = FromSchema<typeof shipmentViewSchema>

export const dataProblemSchema = {
  type: 'object',
  properties: { field: { type: 'string' }, message: { type: 'string' } },
  required: ['field', 'message'],
  additionalProperties: false,
} as const

export const shipmentRequestViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    orderId: { type: 'string' },
    status: { type: 'string', enum: ['OPEN', 'DONE'] },
    items: { type: 'array', items: itemSchema },
    address: addressSchema,
    /** Data problems an operator must fix before it can ship. */
    errors: { type: 'array', items: dataProblemSchema },
    shipmentId: nullableString,
    createdAt: { type: 'string' },
  },
  required: ['id', 'orderId', 'status', 'items', 'address', 'errors', 'shipmentId', 'createdAt'],
  additionalProperties: false,
} as const

export type ShipmentRequestView = FromSchema<typeof shipmentRequestViewSchema>
