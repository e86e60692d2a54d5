import { randomUUID } from 'node:crypto'
import { DuplicateKeyError, type Storage, type Stored } from '@tms/storage'
import type { Catalogue } from './catalogue.js'
import {
  type Address,
  type DataProblem,
  type Item,
  type ShipmentRequest,
  type ShipmentRequestStatus,
  shipmentRequests,
} from './collections.js'
import { isKnownCountry } from './countries.js'
import { notFound } from './errors.js'
import type { ShipmentRequestView } from './views.js'

export interface ShipmentRequestInput {
  orderId: string
  items: Item[]
  address: Address
}

/** Problems an operator must fix before shipping; they are recorded on the request, not rejected. */
export function findDataProblems(input: ShipmentRequestInput, knownSkus?: ReadonlySet<string>): DataProblem[] {
  const problems: DataProblem[] = []
  const { address } = input
  if (knownSkus) {
    input.items.forEach((item, i) => {
      if (!knownSkus.has(item.sku)) problems.push({ field: `items.${i}.sku`, message: `unknown SKU "${item.sku}"` })
    })
  }
  if (!address.postalCode?.trim()) problems.push({ field: 'address.postalCode', message: 'postal code is missing' })
  if (!isKnownCountry(address.country)) {
    problems.push({ field: 'address.country', message: `unknown country "${address.country}" (expected an ISO 3166 code)` })
  }
  for (const field of ['name', 'street', 'city'] as const) {
    if (!address[field].trim()) problems.push({ field: `address.${field}`, message: `${field} is empty` })
  }
  return problems
}

export class ShipmentRequests {
  /** Without a catalogue, SKUs are not checked (tests of other rules; tools). */
  constructor(
    private readonly storage: Storage,
    private readonly catalogue?: Catalogue,
  ) {}

  /**
   * Records a request for an order. The order id is the idempotency key: submitting the same
   * order again returns the request already stored (`created: false`), never a second one.
   */
  async submit(input: ShipmentRequestInput): Promise<{ request: ShipmentRequestView; created: boolean }> {
    const errors = findDataProblems(input, await this.catalogue?.knownSkus())
    const data: ShipmentRequest = {
      orderId: input.orderId,
      items: input.items.map(({ sku, quantity }) => ({ sku, quantity })),
      address: normaliseAddress(input.address),
      status: 'OPEN',
      readiness: errors.length === 0 ? 'READY' : 'NEEDS_FIX',
      errors,
      shipmentId: null,
    }
    try {
      return { request: shipmentRequestView(await this.storage.insert(shipmentRequests, randomUUID(), data)), created: true }
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error
      const existing = await this.storage.findOne(shipmentRequests, { orderId: input.orderId })
      if (!existing) throw error
      return { request: shipmentRequestView(existing), created: false }
    }
  }

  async get(id: string): Promise<ShipmentRequestView> {
    const found = await this.storage.get(shipmentRequests, id)
    if (!found) throw notFound('shipment request', id)
    return shipmentRequestView(found)
  }

  async findByOrderId(orderId: string): Promise<ShipmentRequestView | null> {
    const found = await this.storage.findOne(shipmentRequests, { orderId })
    return found ? shipmentRequestView(found) : null
  }

  /** Order ids of the newest requests: what a shop sync has already seen. */
  async recentOrderIds(limit: number): Promise<string[]> {
    return (await this.storage.find(shipmentRequests, { order: 'newest', limit })).map((r) => r.data.orderId)
  }

  async list(filter: { status?: ShipmentRequestStatus; limit?: number } = {}): Promise<ShipmentRequestView[]> {
    const found = await this.storage.find(shipmentRequests, {
      ...(filter.status ? { where: { status: filter.status } } : {}),
      limit: filter.limit ?? 100,
    })
    return found.map(shipmentRequestView)
  }
}

function normaliseAddress(address: Address): Address {
  return {
    name: address.name.trim(),
    street: address.street.trim(),
    city: address.city.trim(),
    ...(address.postalCode === undefined ? {} : { postalCode: address.postalCode.trim() }),
    country: address.country.trim().toUpperCase(),
  }
}

export function shipmentRequestView(stored: Stored<ShipmentRequest>): ShipmentRequestView {
  const { orderId, status, items, address, errors, shipmentId } = stored.data
  return { id: stored.id, orderId, status, items, address, errors, shipmentId, createdAt: stored.createdAt.toISOString() }
}
