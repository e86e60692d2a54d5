import { randomUUID } from 'node:crypto'
import { HeldLimitError, type LockService, ObjectLockedError } from '@tms/locks'
import { DuplicateKeyError, type Storage, type Stored, VersionConflictError } from '@tms/storage'
import { BatchCandidates, type DevicesToAdd } from './batch-candidates.js'
import { batchDevice, batchView } from './batch-views.js'
import type { Catalogue } from './catalogue.js'
import { type Agent, BATCH_CLAIM, claimLimit } from './claims.js'
import { type BatchStatus, type Device, devices, type RefurbishmentBatch, refurbishmentBatches, users } from './collections.js'
import { notFound, WarehouseError } from './errors.js'
import { tooManyClaims } from './packing-claims.js'
import { findPage, type Page, type PageRequest } from './page.js'
import { updateOrConflict } from './versioned-write.js'
import type { BatchDevice, BatchView } from './views.js'

export { BATCH_CLAIM } from './claims.js'

/** Devices shipped (marked SHIPPED) per statement. */
const SHIP_PAGE = 1000

export interface BatchesOptions {
  /** How long a batch claim lives without being renewed. */
  claimTtlMs: number
  /** Claims one agent may hold, shipments and batches together. */
  maxClaimsPerAgent: number
}

export interface AddResult {
  added: number
  rejected: Array<{ deviceId: string; message: string }>
}

/** Who ships: the agent who packed a batch, or anyone who may ship any (an operator). */
export interface Shipper {
  id: string
  name: string
  mayShipAny: boolean
}

/**
 * Refurbishment batches: devices of one model and edition, filled (OPEN), packed, shipped.
 * Devices join a batch by a versioned write of the device, so two batches can never both hold
 * one device; everything that changes a batch's devices runs under one lock per batch, so its
 * count is the count of its devices.
 */
export class RefurbishmentBatches {
  readonly #candidates: BatchCandidates

  constructor(
    private readonly storage: Storage,
    private readonly catalogue: Catalogue,
    private readonly locks: LockService,
    private readonly options: BatchesOptions,
  ) {
    this.#candidates = new BatchCandidates(storage)
  }

  /** The next number is one more than the largest; two instances taking the same one retry. */
  async create(input: { description: string; modelNumber: string; hardwareEdition: string }, by: Agent): Promise<BatchView> {
    if (!(await this.catalogue.knowsModel(input.modelNumber, input.hardwareEdition))) {
      throw new WarehouseError(
        'UNKNOWN_MODEL',
        `model ${input.modelNumber} in edition ${input.hardwareEdition} is not in the catalogue`,
      )
    }
    for (let attempt = 0; ; attempt++) {
      const number = ((await this.storage.max(refurbishmentBatches, 'number')) ?? 0) + 1
      try {
        const stored = await this.storage.insert(refurbishmentBatches, randomUUID(), {
          number,
          description: input.description,
          modelNumber: input.modelNumber,
          hardwareEdition: input.hardwareEdition,
          status: 'OPEN',
          createdBy: by.name,
          deviceCount: 0,
          packedBy: null,
          packedById: null,
          packedAt: null,
          trackingNumber: null,
          shippedAt: null,
        })
        return batchView(stored)
      } catch (error) {
        if (!(error instanceof DuplicateKeyError) || attempt >= 20) throw error
      }
    }
  }

  list(filter: { status?: BatchStatus | undefined }, page: PageRequest): Promise<Page<BatchView>> {
    return findPage(this.storage, refurbishmentBatches, { where: filter, order: 'newest' }, page, batchView)
  }

  async get(id: string): Promise<BatchView> {
    return batchView(await this.#load(id))
  }

  /**
   * The batch's devices in the order their partners registered them, a page at a time (a cursor
   * of the storage's, read by index), with how many there are; `q` keeps those whose device,
   * innerbox or masterbox id contains it (case does not matter). Filtered and paged in the
   * database: a page costs what it holds, whatever the batch's size.
   */
  async devices(id: string, query: PageRequest & { q?: string | undefined }): Promise<Page<BatchDevice> & { total: number }> {
    const text = query.q?.trim()
    const search = text ? { text, fields: ['id', 'innerboxId', 'masterboxId'] as const } : undefined
    const where = { batchId: id }
    const [batch, page, total] = await Promise.all([
      this.#load(id),
      findPage(this.storage, devices, { where, search }, query, batchDevice),
      // Unfiltered, the batch's own count (kept equal under its lock): counting 20,000 rows on
      // every page made a page of a big batch three times a small one's.
      search ? this.storage.count(devices, where, search) : undefined,
    ])
    return { ...page, total: total ?? batch.data.deviceCount }
  }

  /** Edit: the description, until the batch ships. */
  async describe(id: string, description: string): Promise<BatchView> {
    const batch = await this.#load(id)
    if (batch.data.status === 'SHIPPING' || batch.data.status === 'SHIPPED') {
      throw new WarehouseError('WRONG_STATUS', `batch #${batch.data.number} is ${batch.data.status}; it can no longer be edited`)
    }
    return batchView(await this.#write(batch, { description }))
  }

  /**
   * Holds the batch for the agent (while scanning devices into it); again by the holder renews
   * it. It counts towards the agent's claims, shipments and batches together.
   */
  async claim(id: string, agent: Agent): Promise<{ batchId: string; claimedBy: string; expiresAt: string }> {
    const lock = await this.#take(await this.#load(id), agent, { limited: true })
    return { batchId: id, claimedBy: agent.name, expiresAt: lock.expiresAt.toISOString() }
  }

  async release(id: string, agent: Agent): Promise<void> {
    await this.locks.releaseObjectLock(BATCH_CLAIM, id, agent.id)
  }

  /** Adds devices; each is added or rejected with a reason, never failing the others. */
  async addDevices(id: string, what: DevicesToAdd, agent: Agent): Promise<AddResult> {
    return this.#underBatchLock(id, async () => {
      const batch = await this.#load(id)
      await this.#refuseIfHeldByAnother(batch, agent)
      this.#requireOpen(batch)
      // The scanned devices, or a masterbox's, read at once; null for an id nobody registered.
      const candidates = await this.#candidates.read(what)
      const result: AddResult = { added: 0, rejected: [] }
      if ('masterboxId' in what && candidates.length === 0) {
        result.rejected.push({ deviceId: what.masterboxId, message: `no device is registered in masterbox ${what.masterboxId}` })
      }
      const reasons = await this.#candidates.whyNot(
        batch,
        candidates.flatMap((c) => (c.read ? [c.read] : [])),
      )
      const adding: Stored<Device>[] = []
      for (const { deviceId, read } of candidates) {
        const message = read ? reasons.get(deviceId) : 'unknown device: no partner registered it'
        if (message === undefined) adding.push(read!)
        else if (message !== 'already here') result.rejected.push({ deviceId, message })
      }
      // One statement for all of them; a device written since it was read is left out.
      const inBatch = { status: 'IN_BATCH' as const, batchId: batch.id, addedToBatchAt: new Date().toISOString() }
      result.added = await this.storage.updateMany(
        devices,
        adding.map((current) => ({ current, patch: inBatch })),
      )
      if (result.added < adding.length) {
        // Changed since they were read: most likely another batch took them. Say what each is now.
        // (This batch's devices change only under its lock, so one in it now was added here.)
        const now = await this.storage.getMany(
          devices,
          adding.map((device) => device.id),
        )
        const changed = adding.flatMap(({ id }) => {
          const device = now.get(id)
          return device?.data.batchId === batch.id ? [] : [{ id, device }]
        })
        const why = await this.#candidates.whyNot(
          batch,
          changed.flatMap(({ device }) => (device ? [device] : [])),
        )
        for (const { id } of changed) {
          result.rejected.push({ deviceId: id, message: why.get(id) ?? 'changed meanwhile; add it again' })
        }
      }
      await this.#recount(batch)
      return result
    })
  }

  /** Takes a device out of an OPEN batch: it is in stock again. */
  async removeDevice(id: string, deviceId: string, agent: Agent): Promise<void> {
    await this.#underBatchLock(id, async () => {
      const batch = await this.#load(id)
      await this.#refuseIfHeldByAnother(batch, agent)
      this.#requireOpen(batch)
      const device = await this.storage.get(devices, deviceId)
      if (!device || device.data.batchId !== id) throw notFound(`device in batch #${batch.data.number}`, deviceId)
      const inStock = { status: 'IN_STOCK' as const, batchId: null, addedToBatchAt: null }
      await updateOrConflict(this.storage, devices, device, inStock, `device ${deviceId}`)
      await this.#recount(batch)
    })
  }

  /**
   * "Pack for refurbishment": OPEN → PACKED, under the batch's claim for the caller (taken for
   * the pack if nobody holds it), written with the claim's fencing token: an agent whose claim
   * lapsed and was taken over cannot pack over the new holder.
   */
  async pack(id: string, agent: Agent): Promise<BatchView> {
    return this.#underBatchLock(id, async () => {
      const batch = await this.#load(id)
      let claim = await this.locks.getObjectLock(BATCH_CLAIM, id)
      if (claim && claim.holder !== agent.id) throw await this.#heldBy(batch, claim.holder, claim.expiresAt)
      const tookIt = !claim
      // Held for the pack alone and released with it: not one of the agent's claims to count.
      claim ??= await this.#take(batch, agent, { limited: false })
      try {
        this.#requireOpen(batch)
        const count = await this.storage.count(devices, { batchId: id })
        if (count === 0)
          throw new WarehouseError('BATCH_EMPTY', `batch #${batch.data.number} has no devices; add some before packing`)
        const packed = await this.#write(
          batch,
          {
            status: 'PACKED',
            deviceCount: count,
            packedBy: agent.name,
            packedById: agent.id,
            packedAt: new Date().toISOString(),
          },
          claim.fencingToken,
        )
        return batchView(packed)
      } finally {
        // The pack's own claim ends with it; a claim the agent held before stays theirs.
        if (tookIt) await this.locks.releaseObjectLock(BATCH_CLAIM, id, agent.id).catch(() => undefined)
      }
    })
  }

  /**
   * "Ship refurbishment batch": PACKED → SHIPPED with every device SHIPPED under the tracking
   * number, by the agent who packed it or an operator (as shipments are). In three steps, each
   * repeatable: the batch is marked SHIPPING with the number, the devices are shipped, then the
   * batch SHIPPED. A crash in between leaves SHIPPING, which the same call again, or
   * housekeeping, completes: never a SHIPPED batch with devices IN_BATCH.
   */
  async ship(id: string, trackingNumber: string, by: Shipper): Promise<BatchView> {
    let batch = await this.#load(id)
    if (batch.data.status === 'SHIPPING' && batch.data.trackingNumber !== trackingNumber) {
      throw new WarehouseError('WRONG_STATUS', `batch #${batch.data.number} is being shipped as ${batch.data.trackingNumber}`)
    }
    if (batch.data.status !== 'PACKED' && batch.data.status !== 'SHIPPING') {
      throw new WarehouseError('WRONG_STATUS', `batch #${batch.data.number} is ${batch.data.status}, not PACKED`)
    }
    // Batches packed before packedById was recorded name their packer only.
    const packer = batch.data.packedById ? batch.data.packedById === by.id : batch.data.packedBy === by.name
    if (!packer && !by.mayShipAny) {
      throw new WarehouseError(
        'PACKED_BY_ANOTHER',
        `batch #${batch.data.number} was packed by ${batch.data.packedBy ?? 'someone else'}; they or an operator ship it`,
      )
    }
    if (batch.data.status === 'PACKED') batch = await this.#write(batch, { status: 'SHIPPING', trackingNumber })
    return batchView(await this.#finishShipping(batch))
  }

  /** Housekeeping: batches left SHIPPING (their process died mid-ship) for longer than `olderThanMs`. */
  async completeShipping(olderThanMs: number): Promise<number> {
    let completed = 0
    for (const batch of await this.storage.find(refurbishmentBatches, { where: { status: 'SHIPPING' }, limit: 100 })) {
      if (Date.now() - batch.updatedAt.getTime() < olderThanMs) continue
      await this.#finishShipping(batch)
      completed++
    }
    return completed
  }

  /**
   * Every device still IN_BATCH marked SHIPPED, a page at a time (one statement each, the pages
   * by cursor), then the batch SHIPPED. A device written meanwhile is left out of its statement,
   * most likely shipped by another call shipping the same batch: when a page wrote fewer than it
   * read, the batch is looked at again before anything is called SHIPPED.
   */
  async #finishShipping(batch: Stored<RefurbishmentBatch>): Promise<Stored<RefurbishmentBatch>> {
    const trackingNumber = batch.data.trackingNumber!
    const unshipped = { batchId: batch.id, status: 'IN_BATCH' } as const
    let after: string | undefined
    let shortfall = false
    for (;;) {
      const page = await this.storage.find(devices, { where: unshipped, limit: SHIP_PAGE, after })
      if (page.length === 0) break
      after = page.at(-1)!.cursor
      const written = await this.storage.updateMany(
        devices,
        page.map((current) => ({ current, patch: { status: 'SHIPPED' as const, trackingNumber } })),
      )
      if (written < page.length) shortfall = true
      if (page.length < SHIP_PAGE) break
    }
    const left = shortfall ? await this.storage.findOne(devices, unshipped) : null
    if (left) {
      // The batch stays SHIPPING: shipping it again (or housekeeping) finishes it.
      throw new WarehouseError(
        'CHANGED_MEANWHILE',
        `device ${left.id} changed while batch #${batch.data.number} shipped; ship it again`,
      )
    }
    try {
      return await this.storage.update(refurbishmentBatches, batch, { status: 'SHIPPED', shippedAt: new Date().toISOString() })
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error
      const now = await this.#load(batch.id)
      if (now.data.status === 'SHIPPED') return now
      throw error
    }
  }

  async #recount(batch: Stored<RefurbishmentBatch>): Promise<void> {
    const count = await this.storage.count(devices, { batchId: batch.id })
    const now = await this.#load(batch.id)
    if (now.data.deviceCount !== count) await this.#write(now, { deviceCount: count })
  }

  #requireOpen(batch: Stored<RefurbishmentBatch>): void {
    if (batch.data.status !== 'OPEN') {
      throw new WarehouseError('WRONG_STATUS', `batch #${batch.data.number} is ${batch.data.status}, not OPEN`)
    }
  }

  async #refuseIfHeldByAnother(batch: Stored<RefurbishmentBatch>, agent: Agent): Promise<void> {
    const claim = await this.locks.getObjectLock(BATCH_CLAIM, batch.id)
    if (claim && claim.holder !== agent.id) throw await this.#heldBy(batch, claim.holder, claim.expiresAt)
  }

  /**
   * The batch's claim for the agent (renewed if theirs already); held by another, it says by
   * whom. `limited`: within the agent's claims (shipments and batches together).
   */
  async #take(batch: Stored<RefurbishmentBatch>, agent: Agent, { limited }: { limited: boolean }) {
    try {
      return await this.locks.lockObject(
        BATCH_CLAIM,
        batch.id,
        agent.id,
        this.options.claimTtlMs,
        limited ? claimLimit(this.options.maxClaimsPerAgent, BATCH_CLAIM) : {},
      )
    } catch (error) {
      if (error instanceof ObjectLockedError) throw await this.#heldBy(batch, error.holder, error.expiresAt)
      if (error instanceof HeldLimitError) throw tooManyClaims(error)
      throw error
    }
  }

  /** "Batch #7 is held by ada@… until …": the holder by email, for people. */
  async #heldBy(batch: Stored<RefurbishmentBatch>, holder: string, until: Date): Promise<WarehouseError> {
    const user = /^[0-9a-f-]{36}$/.test(holder) ? await this.storage.get(users, holder) : null
    return new WarehouseError(
      'CLAIMED_BY_ANOTHER',
      `batch #${batch.data.number} is held by ${user?.data.email ?? holder} until ${until.toISOString()}`,
    )
  }

  /** One change of a batch's devices at a time, on any instance. */
  #underBatchLock<T>(id: string, action: () => Promise<T>): Promise<T> {
    return this.locks.runWithLock(`refurbishment-batch:${id}:devices`, action, { ttlMs: 30_000, acquireTimeoutMs: 10_000 })
  }

  #write(batch: Stored<RefurbishmentBatch>, patch: Partial<RefurbishmentBatch>, fencingToken?: number) {
    const fence = fencingToken === undefined ? {} : { fencingToken }
    return updateOrConflict(this.storage, refurbishmentBatches, batch, patch, `batch #${batch.data.number}`, fence)
  }

  async #load(id: string): Promise<Stored<RefurbishmentBatch>> {
    const found = await this.storage.get(refurbishmentBatches, id)
    if (!found) throw notFound('refurbishment batch', id)
    return found
  }
}
