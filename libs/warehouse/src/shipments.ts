import { randomUUID } from 'node:crypto'
import type { Cache } from '@tms/cache'
import type { LockService } from '@tms/locks'
import { type Storage, type Stored, VersionConflictError } from '@tms/storage'
import { type Shipment, type ShipmentStatus, shipmentRequests, shipments } from './collections.js'
import { notFound, WarehouseError } from './errors.js'
import type { CountsByStatus, ShipmentCounts } from './shipment-counts.js'
import { updateOrConflict } from './versioned-write.js'
import type { ShipmentView } from './views.js'

export interface WriteFence {
  /** The fencing token of the lock the writer holds (see @tms/locks). */
  fencingToken?: number
}

const BATCH = 500

/** The service lock shared by `POST /shipments/bulk` and the worker's create-shipments job. */
export const BULK_SHIPMENT_CREATION = 'create-shipments'
const COUNTS_KEY = 'shipment-counts'

export interface ShipmentsOptions {
  /** Counts per status kept as they change, in Redis: every instance agrees, and none scans for them. */
  counts?: ShipmentCounts
  /** Without `counts`: where counts per status are cached (dropped on every change), e.g. one instance's memory. */
  cache?: Cache
  /** For bulk creation, one run at a time across the cluster. */
  locks?: LockService
}

export class Shipments {
  constructor(
    private readonly storage: Storage,
    private readonly options: ShipmentsOptions = {},
  ) {}

  /**
   * Shipments for every ready request, in bulk: under the cluster-wide service
   * lock, so a second call while one runs fails at once with LockBusyError ("already running").
   */
  async createInBulk(): Promise<{ created: number }> {
    const run = async () => {
      const result = await this.createForReadyRequests()
      if (result.created > 0) await this.#countsChanged(null, 'PENDING', result.created)
      return result
    }
    return this.options.locks ? this.options.locks.withServiceLock(BULK_SHIPMENT_CREATION, run, { ttlMs: 30_000 }) : run()
  }

  /**
   * A shipment for every open request without data problems. Safe to repeat and to run from
   * several places: a request's shipment is unique by request id, so a rerun after a crash
   * creates nothing twice, it only finishes marking requests done.
   */
  async createForReadyRequests(): Promise<{ created: number }> {
    let created = 0
    for (;;) {
      const ready = await this.storage.find(shipmentRequests, { where: { status: 'OPEN', readiness: 'READY' }, limit: BATCH })
      // One insert for the whole batch; a request whose shipment exists already (a rerun after a
      // crash, or another runner meanwhile) is left out by the unique request id, and found.
      const planned = ready.map((request) => ({
        id: randomUUID(),
        data: {
          requestId: request.id,
          orderId: request.data.orderId,
          items: request.data.items,
          address: request.data.address,
          status: 'PENDING' as const,
          packedBy: null,
          packedById: null,
          packedAt: null,
          trackingNumber: null,
          shippedAt: null,
        },
      }))
      const inserted = await this.storage.insertMany(shipments, planned)
      created += inserted.size
      for (const [i, request] of ready.entries()) {
        let shipmentId: string = planned[i]!.id
        if (!inserted.has(shipmentId)) {
          const existing = await this.storage.findOne(shipments, { requestId: request.id })
          if (!existing) throw new Error(`the shipment of request ${request.id} was neither created nor found`)
          shipmentId = existing.id
        }
        try {
          await this.storage.update(shipmentRequests, request, { status: 'DONE', shipmentId })
        } catch (error) {
          // Someone else finished this request meanwhile; their write stands.
          if (!(error instanceof VersionConflictError)) throw error
        }
      }
      if (ready.length < BATCH) return { created }
    }
  }

  /** Records that the shop knows the shipment left. Repeating it changes nothing. */
  async markShopNotified(id: string): Promise<void> {
    const current = await this.#load(id)
    if (current.data.shopNotifiedAt) return
    await this.storage.update(shipments, current, notified()).catch((error: unknown) => {
      if (!(error instanceof VersionConflictError)) throw error
    })
  }

  /**
   * Tells the shop about every shipment whose notification is due, oldest first, `batchSize` at
   * a time: `send` gets a batch and answers the shipment ids the shop accepted, which are marked
   * in one statement. Each due shipment is offered once per call (the pages move on by cursor),
   * so one the shop keeps refusing waits for the next call instead of being offered in a loop.
   * A crash between sending and marking sends it again next time (the shop's webhook is idempotent).
   */
  async notifyShopOfDue(
    send: (batch: ShippedNotice[]) => Promise<ReadonlyArray<string>>,
    options: { batchSize: number; signal?: AbortSignal },
  ): Promise<{ notified: number; refused: number; batches: number }> {
    let after: string | undefined
    const outcome = { notified: 0, refused: 0, batches: 0 }
    for (;;) {
      options.signal?.throwIfAborted()
      const due = await this.storage.find(shipments, {
        where: { shopNotification: 'DUE' },
        limit: options.batchSize,
        after,
      })
      if (due.length === 0) return outcome
      after = due.at(-1)!.cursor
      const accepted = new Set(
        await send(due.map((s) => ({ shipmentId: s.id, orderId: s.data.orderId, trackingNumber: s.data.trackingNumber ?? '' }))),
      )
      const marked = due.filter((s) => accepted.has(s.id))
      // A shipment written meanwhile (an older worker's per-shipment job marked it) is left as it is.
      await this.storage.updateMany(
        shipments,
        marked.map((current) => ({ current, patch: notified() })),
      )
      outcome.batches++
      outcome.notified += marked.length
      outcome.refused += due.length - marked.length
      if (due.length < options.batchSize) return outcome
    }
  }

  /**
   * Shipped shipments the shop has not heard of yet, shipped before `before`, that are not DUE:
   * shipped by an older API, whose per-shipment job was lost. (DUE ones are notifyShopOfDue's,
   * which tries them again on every run.)
   */
  async awaitingShopNotification(before: Date, limit = 500): Promise<ShipmentView[]> {
    // The filter runs in the database: shipped shipments only ever grow, unnotified ones stay few.
    const unnotified = await this.storage.find(shipments, {
      where: { status: 'SHIPPED', shopNotifiedAt: null, shopNotification: null },
      limit: 5000,
    })
    return unnotified
      .filter((s) => s.data.shippedAt !== null && Date.parse(s.data.shippedAt) < before.getTime())
      .slice(0, limit)
      .map(shipmentView)
  }

  async get(id: string): Promise<ShipmentView> {
    return shipmentView(await this.#load(id))
  }

  async list(
    filter: { status?: ShipmentStatus | undefined; limit?: number | undefined; excludeIds?: ReadonlySet<string> } = {},
  ): Promise<ShipmentView[]> {
    const limit = filter.limit ?? 100
    const excluded = filter.excludeIds ?? new Set<string>()
    const found = await this.storage.find(shipments, {
      where: { status: filter.status },
      limit: limit + excluded.size,
    })
    return found
      .filter((s) => !excluded.has(s.id))
      .slice(0, limit)
      .map(shipmentView)
  }

  /** Counts per status: kept as shipments move (`counts`), or cached and dropped on every change. */
  async countByStatus(): Promise<CountsByStatus> {
    const load = async () => {
      const counts = await this.storage.countBy(shipments, 'status')
      return { PENDING: counts.PENDING ?? 0, PACKED: counts.PACKED ?? 0, SHIPPED: counts.SHIPPED ?? 0 }
    }
    if (this.options.counts) return this.options.counts.read(load)
    return this.options.cache ? this.options.cache.cached(COUNTS_KEY, load, { ttl: '30s' }) : load()
  }

  async #countsChanged(from: ShipmentStatus | null, to: ShipmentStatus, n = 1): Promise<void> {
    if (this.options.counts) await this.options.counts.moved(from, to, n)
    else await this.options.cache?.delete(COUNTS_KEY)
  }

  /** PENDING → PACKED. With a fencing token, a claim holder that lost its claim cannot overwrite its successor. */
  async pack(id: string, by: { id: string; name: string }, fence: WriteFence = {}): Promise<ShipmentView> {
    const patch = { status: 'PACKED' as const, packedBy: by.name, packedById: by.id, packedAt: new Date().toISOString() }
    return this.#transition(id, 'PACKED', patch, fence)
  }

  /**
   * PACKED → SHIPPED, by the agent who packed it or by someone who may ship any (an operator):
   * an agent cannot send off a parcel someone else packed.
   */
  async ship(id: string, trackingNumber: string, by: { id: string; mayShipAny: boolean }): Promise<ShipmentView> {
    const patch = {
      status: 'SHIPPED' as const,
      trackingNumber,
      shippedAt: new Date().toISOString(),
      // In the same write as the status: a shipment cannot be shipped without the shop's notice due.
      shopNotification: 'DUE' as const,
    }
    return this.#transition(id, 'SHIPPED', patch, {}, (current) => {
      if (by.mayShipAny || current.data.packedById === by.id) return
      throw new WarehouseError('PACKED_BY_ANOTHER', `shipment ${id} was packed by someone else; they or an operator ship it`)
    })
  }

  async #transition(
    id: string,
    to: 'PACKED' | 'SHIPPED',
    patch: Partial<Shipment>,
    fence: WriteFence,
    allowed?: (current: Stored<Shipment>) => void,
  ): Promise<ShipmentView> {
    const from: ShipmentStatus = to === 'PACKED' ? 'PENDING' : 'PACKED'
    const current = await this.#load(id)
    if (current.data.status !== from) {
      throw new WarehouseError('WRONG_STATUS', `shipment ${id} is ${current.data.status}, not ${from}`)
    }
    allowed?.(current)
    const updated = shipmentView(await updateOrConflict(this.storage, shipments, current, patch, `shipment ${id}`, fence))
    await this.#countsChanged(from, to)
    return updated
  }

  async #load(id: string): Promise<Stored<Shipment>> {
    const found = await this.storage.get(shipments, id)
    if (!found) throw notFound('shipment', id)
    return found
  }
}

/** What the shop is told when an order shipped. */
export interface ShippedNotice {
  shipmentId: string
  orderId: string
  trackingNumber: string
}

const notified = (): Partial<Shipment> => ({ shopNotifiedAt: new Date().toISOString(), shopNotification: null })

export function shipmentView(stored: Stored<Shipment>): ShipmentView {
  const { requestId, orderId, status, items, address, packedBy, packedAt, trackingNumber, shippedAt } = stored.data
  const packedById = stored.data.packedById ?? null
  return {
    id: stored.id,
    requestId,
    orderId,
    status,
    items,
    address,
    packedBy,
    packedById,
    packedAt,
    trackingNumber,
    shippedAt,
    shopNotifiedAt: stored.data.shopNotifiedAt ?? null,
    createdAt: stored.createdAt.toISOString(),
    version: stored.version,
  }
}
