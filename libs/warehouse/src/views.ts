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
    status: { type: 'string', enum: ['OPEN', 'DONE', 'CANCELLED'] },
    items: { type: 'array', items: itemSchema },
    address: addressSchema,
    /** Data problems an operator must fix before it can ship. */
    errors: { type: 'array', items: dataProblemSchema },
    /** READY: no problems left, bulk creation takes it; NEEDS_FIX: an operator must fix `errors`. */
    readiness: { type: 'string', enum: ['READY', 'NEEDS_FIX'] },
    shipmentId: nullableString,
    cancellation: {
      type: ['object', 'null'],
      properties: { reason: { type: 'string' }, by: { type: 'string' }, at: { type: 'string' } },
      required: ['reason', 'by', 'at'],
      additionalProperties: false,
    },
    createdAt: { type: 'string' },
    /** Send it back when editing: an edit of an older version is refused (409), never lost. */
    version: { type: 'integer' },
  },
  required: [
    'id',
    'orderId',
    'status',
    'items',
    'address',
    'errors',
    'readiness',
    'shipmentId',
    'cancellation',
    'createdAt',
    'version',
  ],
  additionalProperties: false,
} as const

export type ShipmentRequestView = FromSchema<typeof shipmentRequestViewSchema>

export const deviceStatusSchema = { type: 'string', enum: ['IN_STOCK', 'IN_BATCH', 'SHIPPED'] } as const

export const deviceViewSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    modelNumber: { type: 'string' },
    hardwareEdition: { type: 'string' },
    innerboxId: { type: 'string' },
    masterboxId: { type: 'string' },
    status: deviceStatusSchema,
    batchId: nullableString,
    addedToBatchAt: nullableString,
    trackingNumber: nullableString,
    registeredBy: { type: 'string' },
    registeredAt: { type: 'string' },
  },
  required: [
    'deviceId',
    'modelNumber',
    'hardwareEdition',
    'innerboxId',
    'masterboxId',
    'status',
    'batchId',
    'addedToBatchAt',
    'trackingNumber',
    'registeredBy',
    'registeredAt',
  ],
  additionalProperties: false,
} as const

export type DeviceView = FromSchema<typeof deviceViewSchema>

export const batchStatusSchema = { type: 'string', enum: ['OPEN', 'PACKED', 'SHIPPING', 'SHIPPED'] } as const

export const batchViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    number: { type: 'integer' },
    description: { type: 'string' },
    modelNumber: { type: 'string' },
    hardwareEdition: { type: 'string' },
    status: batchStatusSchema,
    createdBy: { type: 'string' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    deviceCount: { type: 'integer' },
    packedBy: nullableString,
    packedAt: nullableString,
    trackingNumber: nullableString,
    shippedAt: nullableString,
    version: { type: 'integer' },
  },
  required: [
    'id',
    'number',
    'description',
    'modelNumber',
    'hardwareEdition',
    'status',
    'createdBy',
    'createdAt',
    'updatedAt',
    'deviceCount',
    'packedBy',
    'packedAt',
    'trackingNumber',
    'shippedAt',
    'version',
  ],
  additionalProperties: false,
} as const

export type BatchView = FromSchema<typeof batchViewSchema>

/** A device as the batch screen lists it. */
export const batchDeviceSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    addedAt: nullableString,
    trackingNumber: nullableString,
    masterboxId: { type: 'string' },
    innerboxId: { type: 'string' },
  },
  required: ['deviceId', 'addedAt', 'trackingNumber', 'masterboxId', 'innerboxId'],
  additionalProperties: false,
} as const

export type BatchDevice = FromSchema<typeof batchDeviceSchema>
