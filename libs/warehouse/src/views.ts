import type { FromSchema } from 'json-schema-to-ts'
import { addressSchema, itemSchema } from './request-schemas.js'

/**
 * What the warehouse shows of its records, as JSON schemas: the API serializes and documents
 * its answers with them, and the TypeScript types below are derived from them, so the two
 * cannot drift apart.
 */

const nullableString = { type: ['string', 'null'] } as const
/** What a device is, and what a batch takes: devices of one model and hardware edition. */
const modelAndEdition = { modelNumber: { type: 'string' }, hardwareEdition: { type: 'string' } } as const
/** Who packed it and when, and how and when it left: a shipment and a batch alike. */
const packedAndShipped = {
  /** The packing agent's name, for people. */
  packedBy: nullableString,
  packedAt: nullableString,
  trackingNumber: nullableString,
  shippedAt: nullableString,
} as const

/**
 * A view's object schema: every field is always there (null when empty) and nothing else is,
 * so `required` is the list of its properties, derived rather than kept in step by hand.
 */
function everyFieldAlways<const P extends Record<string, object>>(properties: P) {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties) as Array<keyof P & string>,
    additionalProperties: false,
  } as const
}

export const shipmentStatusSchema = { type: 'string', enum: ['PENDING', 'PACKED', 'SHIPPED'] } as const

export const shipmentViewSchema = everyFieldAlways({
  id: { type: 'string' },
  requestId: { type: 'string' },
  orderId: { type: 'string' },
  status: shipmentStatusSchema,
  items: { type: 'array', items: itemSchema },
  address: addressSchema,
  ...packedAndShipped,
  /** The packing agent's id: who may ship it besides an operator. */
  packedById: nullableString,
  shopNotifiedAt: nullableString,
  createdAt: { type: 'string' },
  version: { type: 'integer' },
})

export type ShipmentView = FromSchema<typeof shipmentViewSchema>

export const dataProblemSchema = everyFieldAlways({ field: { type: 'string' }, message: { type: 'string' } })

export const shipmentRequestViewSchema = everyFieldAlways({
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
})

export type ShipmentRequestView = FromSchema<typeof shipmentRequestViewSchema>

export const deviceStatusSchema = { type: 'string', enum: ['IN_STOCK', 'IN_BATCH', 'SHIPPED'] } as const

export const deviceViewSchema = everyFieldAlways({
  deviceId: { type: 'string' },
  ...modelAndEdition,
  innerboxId: { type: 'string' },
  masterboxId: { type: 'string' },
  status: deviceStatusSchema,
  batchId: nullableString,
  addedToBatchAt: nullableString,
  trackingNumber: nullableString,
  registeredBy: { type: 'string' },
  registeredAt: { type: 'string' },
})

export type DeviceView = FromSchema<typeof deviceViewSchema>

export const batchStatusSchema = { type: 'string', enum: ['OPEN', 'PACKED', 'SHIPPING', 'SHIPPED'] } as const

export const batchViewSchema = everyFieldAlways({
  id: { type: 'string' },
  number: { type: 'integer' },
  description: { type: 'string' },
  ...modelAndEdition,
  status: batchStatusSchema,
  createdBy: { type: 'string' },
  createdAt: { type: 'string' },
  updatedAt: { type: 'string' },
  deviceCount: { type: 'integer' },
  ...packedAndShipped,
  version: { type: 'integer' },
})

export type BatchView = FromSchema<typeof batchViewSchema>

/** A device as the batch screen lists it. */
export const batchDeviceSchema = everyFieldAlways({
  deviceId: { type: 'string' },
  addedAt: nullableString,
  trackingNumber: nullableString,
  masterboxId: { type: 'string' },
  innerboxId: { type: 'string' },
})

export type BatchDevice = FromSchema<typeof batchDeviceSchema>
