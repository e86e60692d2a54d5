import type { CollectionSchema, CollectionSpec } from '@tms/storage'

/**
 * agent < operator < admin are ranked (each may do what the one before may); partner, a
 * manufacturing partner, stands apart: it registers devices and reads its own.
 */
export const ROLES = ['agent', 'operator', 'admin', 'partner'] as const
export type Role = (typeof ROLES)[number]

export interface User {
  email: string
  /** scrypt$N$r$p$salt$hash — never leaves this lib. */
  passwordHash: string
  roles: Role[]
  /** A disabled user cannot log in, and their sessions were ended when it was disabled. Absent: false. */
  disabled?: boolean
}

export interface ApiToken {
  name: string
  roles: Role[]
  /** sha256 of the secret part; the token itself is shown once and never stored. */
  secretHash: string
  createdBy: string
  revokedAt: string | null
  /** When it stops working. Absent on tokens made before expiry existed: a year after they were made. */
  expiresAt?: string
}

export interface Item {
  sku: string
  quantity: number
}

export interface Address {
  name: string
  street: string
  city: string
  postalCode?: string
  country: string
}

/** A problem an operator must fix before the request can be shipped. */
export interface DataProblem {
  field: string
  message: string
}

export type ShipmentRequestStatus = 'OPEN' | 'DONE' | 'CANCELLED'
/** READY when `errors` is empty: bulk creation reads only these, however many need fixing. */
export type ShipmentRequestReadiness = 'READY' | 'NEEDS_FIX'

export interface ShipmentRequest {
  orderId: string
  items: Item[]
  address: Address
  status: ShipmentRequestStatus
  readiness: ShipmentRequestReadiness
  errors: DataProblem[]
  shipmentId: string | null
  /** Set when an operator cancelled it; absent on older records. */
  cancellation?: { reason: string; by: string; at: string } | null
  /** When the shop was told of the cancellation (the notify-shop-cancelled job). */
  shopNotifiedAt?: string | null
}

export type ShipmentStatus = 'PENDING' | 'PACKED' | 'SHIPPED'

export interface Shipment {
  /** One shipment per request: the unique key that makes bulk creation safe to repeat. */
  requestId: string
  orderId: string
  items: Item[]
  address: Address
  status: ShipmentStatus
  /** The packing agent's name, for people. */
  packedBy: string | null
  /** The packing agent's id: who may ship it besides an operator. Absent on records packed before it existed. */
  packedById?: string | null
  packedAt: string | null
  trackingNumber: string | null
  shippedAt: string | null
  /** When the web shop was told the tracking number (the notify-shipped job); absent on older records. */
  shopNotifiedAt?: string | null
  /**
   * DUE from shipping until the shop is told: the notify-shipped job reads these by index, so
   * finding what to send does not walk every shipment ever shipped. Absent on older records.
   */
  shopNotification?: 'DUE' | null
}

/** An order from the web shop that no shipment request could be made of (see QuarantinedOrders). */
export interface QuarantinedOrder {
  source: string
  orderId: string | null
  problems: string[]
  payload: string
}

export interface Product {
  sku: string
  name: string
  /** Hardware edition, e.g. BROWN-TEXTURE-WORLDWIDE. */
  edition: string
  /** The device model it is built on, e.g. TG5; absent for accessories (and on older records). */
  modelNumber?: string
}

export type DeviceStatus = 'IN_STOCK' | 'IN_BATCH' | 'SHIPPED'

/** A device a manufacturing partner produced, packed in an innerbox inside a masterbox. Its id is the device id. */
export interface Device {
  modelNumber: string
  hardwareEdition: string
  innerboxId: string
  masterboxId: string
  /** The partner (user or token id) that registered it. */
  registeredBy: string
  status: DeviceStatus
  batchId: string | null
  addedToBatchAt: string | null
  trackingNumber: string | null
}

/** OPEN (filling) → PACKED → SHIPPING (devices being marked) → SHIPPED. */
export type BatchStatus = 'OPEN' | 'PACKED' | 'SHIPPING' | 'SHIPPED'

/** Devices of one model and edition, refurbished and shipped together. */
export interface RefurbishmentBatch {
  /** The number people say (#67): unique, increasing, never reused. */
  number: number
  description: string
  modelNumber: string
  hardwareEdition: string
  status: BatchStatus
  createdBy: string
  deviceCount: number
  /** The packing agent's name, for people. */
  packedBy: string | null
  /** The packing agent's id: who may ship it besides an operator. Absent on batches packed before it existed. */
  packedById?: string | null
  packedAt: string | null
  trackingNumber: string | null
  shippedAt: string | null
}

export const users: CollectionSpec<User> = { name: 'users', schemaVersion: 1, unique: ['email'] }
export const apiTokens: CollectionSpec<ApiToken> = { name: 'api_tokens', schemaVersion: 1, indexed: ['createdBy'] }
export const shipmentRequests: CollectionSpec<ShipmentRequest> = {
  name: 'shipment_requests',
  schemaVersion: 1,
  unique: ['orderId'],
  indexed: ['status', 'readiness'],
}
export const shipments: CollectionSpec<Shipment> = {
  name: 'shipments',
  schemaVersion: 1,
  unique: ['requestId'],
  indexed: ['status', 'shopNotification'],
}

export const products: CollectionSpec<Product> = { name: 'products', schemaVersion: 1, unique: ['sku'] }
export const devices: CollectionSpec<Device> = {
  name: 'devices',
  schemaVersion: 1,
  indexed: ['masterboxId', 'innerboxId', 'modelNumber', 'status', 'registeredBy', 'batchId'],
}
export const refurbishmentBatches: CollectionSpec<RefurbishmentBatch> = {
  name: 'refurbishment_batches',
  schemaVersion: 1,
  unique: ['number'],
  indexed: ['status'],
}
export const quarantinedOrders: CollectionSpec<QuarantinedOrder> = {
  name: 'quarantined_orders',
  schemaVersion: 1,
  unique: ['source'],
}

/** Everything the warehouse stores; each app migrates these at start. */
export const WAREHOUSE_COLLECTIONS: ReadonlyArray<CollectionSchema> = [
  users,
  apiTokens,
  shipmentRequests,
  shipments,
  products,
  quarantinedOrders,
  devices,
  refurbishmentBatches,
]
