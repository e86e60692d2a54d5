import { randomUUID } from 'node:crypto'
import { type LockService, ObjectLockedError, type ObjectPattern } from '@tms/locks'
import { DuplicateKeyError, type Storage, type Stored, VersionConflictError } from '@tms/storage'
import type { Agent } from './packing-claims.js'
import type { Catalogue } from './catalogue.js'
import { type BatchStatus, type Device, devices, type RefurbishmentBatch, refurbishmentBatches, users } from './collections.js'
import { notFound, WarehouseError } from './errors.js'
import { findPage, type Page, type PageRequest } from './page.js'
import { updateOrConflict } from './versioned-write.js'
import type { BatchDevice, BatchView } from './views.js'

/** An agent holds a batch while filling it from a scanner, and while packing it. */
export const BATCH_CLAIM: ObjectPattern = 'refurbishment-batch:<id>:claim'
export const MAX_DEVICES_PER_BATCH = 5000

export interface BatchesOptions {
  /** How long a batch claim lives without being renewed. */
  claimTtlMs: number
}

/** What to add: device ids as scanned, or a whole masterbox at once. */
export type DevicesToAdd = { deviceIds: string[] } | { masterboxId: string }

/** A device asked for by id, as read: null when nobody registered that id. */
interface Candidate {
  deviceId: string
  read: Stored<Device> | null
}

export interface AddResult {
  added: number
  rejected: Array<{ deviceId: string; message: string }>
}

/**
 * Refurbishment batches: devices of one model and edition, filled (OPEN), packed, shipped.
 * Devices join a batch by a versioned write of the device, so two batches can never both hold
 * one device; everything that changes a batch's devices runs under one lock per batch, so its
 * count is the count of its devices.
 */
export class RefurbishmentBatches {
  constructor(
    private readonly storage: Storage,
    private readonly catalogue: Catalogue,
    private readonly locks: LockService,
    private readonly options: BatchesOptions,
  ) {}

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

  list(filter: { status?: BatchStatus }, page: PageRequest): Promise<Page<BatchView>> {
    return findPage(this.storage, refurbishmentBatches, { where: filter, order: 'newest' }, page, batchView)
  }

  async get(id: string): Promise<BatchView> {
    return batchView(await this.#load(id))
  }

  /**
   * The batch's devices, oldest added first; `q` keeps those whose device, innerbox or masterbox
   * id contains it (case does not matter). The cursor is a position in that list.
   */
  async devices(id: string, query: PageRequest & { q?: string }) {
    await this.#load(id)
    const all = (await this.storage.find(devices, { where: { batchId: id }, limit: MAX_DEVICES_PER_BATCH }))
      .map(batchDevice)
      .sort((a, b) => (a.addedAt ?? '').localeCompare(b.addedAt ?? '') || a.deviceId.localeCompare(b.deviceId))
    const needle = query.q?.trim().toLowerCase()
    const matching = needle
      ? all.filter((d) => [d.deviceId, d.innerboxId, d.masterboxId].some((value) => value.toLowerCase().includes(needle)))
      : all
    const from = query.after === undefined ? 0 : positionOf(query.after)
    const items = matching.slice(from, from + query.limit)
    const next = from + items.length
    return { items, nextCursor: next < matching.length ? cursorAt(next) : null, total: matching.length }
  }

  /** Edit: the description, until the batch ships. */
  async describe(id: string, description: string): Promise<BatchView> {
    const batch = await this.#load(id)
    if (batch.data.status === 'SHIPPING' || batch.data.status === 'SHIPPED') {
      throw new WarehouseError('WRONG_STATUS', `batch #${batch.data.number} is ${batch.data.status}; it can no longer be edited`)
    }
    return batchView(await this.#write(batch, { description }))
  }

  /** Holds the batch for the agent (while scanning devices into it); again by the holder renews it. */
  async claim(id: string, agent: Agent): Promise<{ batchId: string; claimedBy: string; expiresAt: string }> {
    const lock = await this.#take(await this.#load(id), agent)
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
      const candidates = 'deviceIds' in what ? await this.#scanned(what.deviceIds) : await this.#inMasterbox(what.masterboxId)
      const result: AddResult = { added: 0, rejected: [] }
      if ('masterboxId' in what && candidates.length === 0) {
        result.rejected.push({ deviceId: what.masterboxId, message: `no device is registered in masterbox ${what.masterboxId}` })
      }
      let count = batch.data.deviceCount
      const adding: Stored<Device>[] = []
      for (const { deviceId, read } of candidates) {
        const message = !read
          ? 'unknown device: no partner registered it'
          : count >= MAX_DEVICES_PER_BATCH
            ? `the batch is full (${MAX_DEVICES_PER_BATCH} devices)`
            : await this.#whyNot(batch, read)
        if (message === null) {
          adding.push(read!)
          count++
        } else if (message !== 'already here') result.rejected.push({ deviceId, message })
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
        for (const { id } of adding) {
          const device = now.get(id)
          if (device?.data.batchId === batch.id) continue
          const message = (device && (await this.#whyNot(batch, device))) ?? 'changed meanwhile; add it again'
          result.rejected.push({ deviceId: id, message })
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
      claim ??= await this.#take(batch, agent)
      try {
        this.#requireOpen(batch)
        const count = await this.storage.count(devices, { batchId: id })
        if (count === 0)
          throw new WarehouseError('BATCH_EMPTY', `batch #${batch.data.number} has no devices; add some before packing`)
        const packed = await this.#write(
          batch,
          { status: 'PACKED', deviceCount: count, packedBy: agent.name, packedAt: new Date().toISOString() },
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
   * number. In three steps, each repeatable: the batch is marked SHIPPING with the number, the
   * devices are shipped, then the batch SHIPPED. A crash in between leaves SHIPPING, which the
   * same call again, or housekeeping, completes: never a SHIPPED batch with devices IN_BATCH.
   */
  async ship(id: string, trackingNumber: string): Promise<BatchView> {
    let batch = await this.#load(id)
    if (batch.data.status === 'SHIPPING' && batch.data.trackingNumber !== trackingNumber) {
      throw new WarehouseError('WRONG_STATUS', `batch #${batch.data.number} is being shipped as ${batch.data.trackingNumber}`)
    }
    if (batch.data.status !== 'PACKED' && batch.data.status !== 'SHIPPING') {
      throw new WarehouseError('WRONG_STATUS', `batch #${batch.data.number} is ${batch.data.status}, not PACKED`)
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

  async #finishShipping(batch: Stored<RefurbishmentBatch>): Promise<Stored<RefurbishmentBatch>> {
    const trackingNumber = batch.data.trackingNumber!
    const inBatch = () => this.storage.find(devices, { where: { batchId: batch.id }, limit: MAX_DEVICES_PER_BATCH })
    const unshipped = (await inBatch()).filter((device) => device.data.status !== 'SHIPPED')
    // All in one statement; one written meanwhile is left out, most likely shipped by another
    // call shipping the same batch. Read again to be sure before the batch is called SHIPPED.
    const written = await this.storage.updateMany(
      devices,
      unshipped.map((current) => ({ current, patch: { status: 'SHIPPED' as const, trackingNumber } })),
    )
    if (written < unshipped.length) {
      const left = (await inBatch()).find((device) => device.data.status !== 'SHIPPED')
      if (left) {
        // The batch stays SHIPPING: shipping it again (or housekeeping) finishes it.
        throw new WarehouseError(
          'CHANGED_MEANWHILE',
          `device ${left.id} changed while batch #${batch.data.number} shipped; ship it again`,
        )
      }
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

  async #scanned(deviceIds: ReadonlyArray<string>): Promise<Candidate[]> {
    const ids = [...new Set(deviceIds)]
    const found = await this.storage.getMany(devices, ids)
    return ids.map((deviceId) => ({ deviceId, read: found.get(deviceId) ?? null }))
  }

  async #inMasterbox(masterboxId: string): Promise<Candidate[]> {
    const found = await this.storage.find(devices, { where: { masterboxId }, limit: MAX_DEVICES_PER_BATCH })
    return found.map((read) => ({ deviceId: read.id, read }))
  }

  async #whyNot(batch: Stored<RefurbishmentBatch>, device: Stored<Device>): Promise<string | null> {
    if (device.data.batchId === batch.id) return 'already here'
    if (device.data.status === 'SHIPPED') return 'already shipped'
    if (device.data.batchId !== null) {
      const other = await this.storage.get(refurbishmentBatches, device.data.batchId)
      return `already in batch #${other?.data.number ?? '?'}`
    }
    if (device.data.modelNumber !== batch.data.modelNumber || device.data.hardwareEdition !== batch.data.hardwareEdition) {
      return `is a ${device.data.modelNumber} ${device.data.hardwareEdition}; the batch takes ${batch.data.modelNumber} ${batch.data.hardwareEdition}`
    }
    return null
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

  /** The batch's claim for the agent (renewed if theirs already); held by another, it says by whom. */
  async #take(batch: Stored<RefurbishmentBatch>, agent: Agent) {
    try {
      return await this.locks.lockObject(BATCH_CLAIM, batch.id, agent.id, this.options.claimTtlMs)
    } catch (error) {
      if (error instanceof ObjectLockedError) throw await this.#heldBy(batch, error.holder, error.expiresAt)
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

/** A position in a batch's device list, as an opaque cursor. */
const cursorAt = (position: number) => Buffer.from(`p${position}`).toString('base64url')
function positionOf(cursor: string): number {
  const match = /^p(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!match) throw new WarehouseError('INVALID_CURSOR', 'the cursor is not one this list gave out')
  return Number(match[1])
}

export function batchView(stored: Stored<RefurbishmentBatch>): BatchView {
  const { number, description, modelNumber, hardwareEdition, status, createdBy, deviceCount } = stored.data
  return {
    id: stored.id,
    number,
    description,
    modelNumber,
    hardwareEdition,
    status,
    createdBy,
    createdAt: stored.createdAt.toISOString(),
    updatedAt: stored.updatedAt.toISOString(),
    deviceCount,
    packedBy: stored.data.packedBy,
    packedAt: stored.data.packedAt,
    trackingNumber: stored.data.trackingNumber,
    shippedAt: stored.data.shippedAt,
    version: stored.version,
  }
}

function batchDevice(stored: Stored<Device>): BatchDevice {
  return {
    deviceId: stored.id,
    addedAt: stored.data.addedToBatchAt,
    trackingNumber: stored.data.trackingNumber,
    masterboxId: stored.data.masterboxId,
    innerboxId: stored.data.innerboxId,
  }
}
