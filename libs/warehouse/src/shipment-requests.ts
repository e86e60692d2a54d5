import { randomUUID } from 'node:crypto'
import type { LockService } from '@tms/locks'
import { DuplicateKeyError, type Storage, type Stored, VersionConflictError } from '@tms/storage'
import type { Catalogue } from './catalogue.js'
import {
  type Address,
  type DataProblem,
  type Item,
  type ShipmentRequest,
  type ShipmentRequestReadiness,
  type ShipmentRequestStatus,
  shipmentRequests,
} from './collections.js'
import { isKnownCountry } from './countries.js'
import { notFound, WarehouseError } from './errors.js'
import { BULK_SHIPMENT_CREATION } from './shipments.js'
import { updateOrConflict } from './versioned-write.js'
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
  /**
   * Without a catalogue, SKUs are not checked (tests of other rules; tools). With locks, edits
   * and cancellations wait for a bulk creation that runs (its service lock), so a shipment is
   * never made from a request as it was before an edit, nor from a cancelled one.
   */
  constructor(
    private readonly storage: Storage,
    private readonly catalogue?: Catalogue,
    private readonly locks?: LockService,
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

  async list(
    filter: {
      status?: ShipmentRequestStatus | undefined
      readiness?: ShipmentRequestReadiness | undefined
      limit?: number | undefined
    } = {},
  ): Promise<ShipmentRequestView[]> {
    const where = { status: filter.status, readiness: filter.readiness }
    const found = await this.storage.find(shipmentRequests, { where, limit: filter.limit ?? 100 })
    return found.map(shipmentRequestView)
  }

  /**
   * An operator fixes an open request: new items and/or address, problems found again; with
   * none left it is READY and the next bulk creation ships it. `version` is the version the
   * operator saw: an edit of anything older is refused (CHANGED_MEANWHILE), never lost.
   */
  async edit(id: string, version: number, change: { items?: Item[]; address?: Address }): Promise<ShipmentRequestView> {
    return this.#excludingBulkCreation(async () => {
      const current = await this.#open(id, version)
      const input: ShipmentRequestInput = {
        orderId: current.data.orderId,
        items: change.items ?? current.data.items,
        address: change.address ?? current.data.address,
      }
      const errors = findDataProblems(input, await this.catalogue?.knownSkus())
      return shipmentRequestView(
        await this.#write(current, {
          items: input.items.map(({ sku, quantity }) => ({ sku, quantity })),
          address: normaliseAddress(input.address),
          errors,
          readiness: errors.length === 0 ? 'READY' : 'NEEDS_FIX',
        }),
      )
    })
  }

  /** OPEN → CANCELLED: never shipped. The caller tells the shop (a job). */
  async cancel(id: string, reason: string, by: string): Promise<ShipmentRequestView> {
    return this.#excludingBulkCreation(async () => {
      const current = await this.#open(id)
      return shipmentRequestView(
        await this.#write(current, {
          status: 'CANCELLED',
          cancellation: { reason, by, at: new Date().toISOString() },
          shopNotifiedAt: null,
        }),
      )
    })
  }

  /** Records that the shop knows of the cancellation. Repeating it changes nothing. */
  async markCancellationNotified(id: string): Promise<void> {
    const current = await this.storage.get(shipmentRequests, id)
    if (!current || current.data.shopNotifiedAt) return
    await this.storage.update(shipmentRequests, current, { shopNotifiedAt: new Date().toISOString() }).catch((error: unknown) => {
      if (!(error instanceof VersionConflictError)) throw error
    })
  }

  /** Cancelled before `before`, and the shop not told yet. */
  async awaitingCancellationNotice(before: Date, limit = 500): Promise<ShipmentRequestView[]> {
    const cancelled = await this.storage.find(shipmentRequests, {
      where: { status: 'CANCELLED', shopNotifiedAt: null },
      limit: 5000,
    })
    return cancelled
      .filter((r) => r.data.cancellation && Date.parse(r.data.cancellation.at) < before.getTime())
      .slice(0, limit)
      .map(shipmentRequestView)
  }

  async #open(id: string, version?: number): Promise<Stored<ShipmentRequest>> {
    const current = await this.storage.get(shipmentRequests, id)
    if (!current) throw notFound('shipment request', id)
    if (current.data.status !== 'OPEN') {
      const why = current.data.status === 'DONE' ? 'its shipment exists' : 'it was cancelled'
      throw new WarehouseError('WRONG_STATUS', `shipment request ${id} is ${current.data.status}: ${why}`)
    }
    if (version !== undefined && version !== current.version) {
      throw new WarehouseError(
        'CHANGED_MEANWHILE',
        `shipment request ${id} is at version ${current.version}, not ${version}; reload it`,
      )
    }
    return current
  }

  #write(current: Stored<ShipmentRequest>, patch: Partial<ShipmentRequest>): Promise<Stored<ShipmentRequest>> {
    return updateOrConflict(this.storage, shipmentRequests, current, patch, `shipment request ${current.id}`)
  }

  #excludingBulkCreation<T>(action: () => Promise<T>): Promise<T> {
    if (!this.locks) return action()
    return this.locks.runWithLock(`service:${BULK_SHIPMENT_CREATION}`, action, { ttlMs: 30_000, acquireTimeoutMs: 10_000 })
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
  const { orderId, status, items, address, errors, readiness, shipmentId } = stored.data
  return {
    id: stored.id,
    orderId,
    status,
    items,
    address,
    errors,
    readiness,
    shipmentId,
    cancellation: stored.data.cancellation ?? null,
    createdAt: stored.createdAt.toISOString(),
    version: stored.version,
  }
}
