import type { Storage, Stored } from '@tms/storage'
import { apiTokens, type Device, devices, type RefurbishmentBatch, refurbishmentBatches, users } from './collections.js'
import { WarehouseError } from './errors.js'

/**
 * Devices one add takes: scanned ids, or a whole masterbox. A batch itself has no limit: its
 * device list pages in the database, so a batch of 20,000 lists as fast as one of 20.
 */
export const MAX_DEVICES_PER_ADD = 1000
/**
 * What to add: device ids as scanned, or a whole masterbox at once; `registeredBy` names the
 * partner whose masterbox it is when box ids of several partners are alike.
 */
export type DevicesToAdd = { deviceIds: string[] } | { masterboxId: string; registeredBy?: string | undefined }

/** A device asked for by id, as read: null when nobody registered that id. */
export interface Candidate {
  deviceId: string
  read: Stored<Device> | null
}

/**
 * The devices an add asks for, and why each cannot join a batch: read in a few statements
 * whatever their number (the scanned ids in one, a masterbox in one, the other batches they are
 * in in one).
 */
export class BatchCandidates {
  constructor(private readonly storage: Storage) {}

  /** The scanned devices, or a masterbox's, read at once; null for an id nobody registered. */
  read(what: DevicesToAdd): Promise<Candidate[]> {
    return 'deviceIds' in what ? this.#scanned(what.deviceIds) : this.#inMasterbox(what)
  }

  async #scanned(deviceIds: ReadonlyArray<string>): Promise<Candidate[]> {
    const ids = [...new Set(deviceIds)]
    const found = await this.storage.getMany(devices, ids)
    return ids.map((deviceId) => ({ deviceId, read: found.get(deviceId) ?? null }))
  }

  /**
   * A masterbox's devices. Box ids are the partners' own labels, so two partners may use the
   * same one (by accident, or one taking another's first): a scan never mixes their devices. A
   * box of several partners is refused, naming each, until the scan names one (`registeredBy`).
   */
  async #inMasterbox(what: { masterboxId: string; registeredBy?: string | undefined }): Promise<Candidate[]> {
    const where = { masterboxId: what.masterboxId, registeredBy: what.registeredBy }
    const found = await this.storage.find(devices, { where, limit: MAX_DEVICES_PER_ADD + 1 })
    if (found.length > MAX_DEVICES_PER_ADD) {
      throw new WarehouseError(
        'TOO_MANY_DEVICES',
        `masterbox ${what.masterboxId} holds more than ${MAX_DEVICES_PER_ADD} devices; add them by id, ${MAX_DEVICES_PER_ADD} at a time`,
      )
    }
    const partners = new Map<string, number>()
    for (const device of found) partners.set(device.data.registeredBy, (partners.get(device.data.registeredBy) ?? 0) + 1)
    if (partners.size > 1) {
      const names = await this.#partnerNames([...partners.keys()])
      const each = [...partners].map(([partner, count]) => ({ partner, name: names.get(partner) ?? partner, count }))
      throw new WarehouseError(
        'AMBIGUOUS_MASTERBOX',
        `masterbox ${what.masterboxId} holds devices of ${partners.size} partners: ${each
          .map((p) => `${p.name} (${p.count})`)
          .join(', ')}; scan it again naming one (registeredBy)`,
        { details: each.map((p) => ({ field: 'body.registeredBy', message: `${p.partner}: ${p.name}, ${p.count} devices` })) },
      )
    }
    return found.map((read) => ({ deviceId: read.id, read }))
  }

  /** Partners by id, for people: a user's email, or an API token's name. */
  async #partnerNames(ids: string[]): Promise<Map<string, string>> {
    const [people, tokens] = await Promise.all([this.storage.getMany(users, ids), this.storage.getMany(apiTokens, ids)])
    return new Map(ids.map((id) => [id, people.get(id)?.data.email ?? tokens.get(id)?.data.name ?? id]))
  }

  /**
   * Why each device cannot join the batch ('already here' when it is in it), by device id; the
   * devices that can are not in the map. The other batches they are in are read in one go.
   */
  async whyNot(batch: Stored<RefurbishmentBatch>, candidates: ReadonlyArray<Stored<Device>>): Promise<Map<string, string>> {
    const elsewhere = [
      ...new Set(candidates.flatMap((d) => (d.data.batchId && d.data.batchId !== batch.id ? [d.data.batchId] : []))),
    ]
    const others = await this.storage.getMany(refurbishmentBatches, elsewhere)
    const reasons = new Map<string, string>()
    for (const device of candidates) {
      const { batchId, status, modelNumber, hardwareEdition } = device.data
      if (batchId === batch.id) reasons.set(device.id, 'already here')
      else if (status === 'SHIPPED') reasons.set(device.id, 'already shipped')
      else if (batchId !== null) reasons.set(device.id, `already in batch #${others.get(batchId)?.data.number ?? '?'}`)
      else if (modelNumber !== batch.data.modelNumber || hardwareEdition !== batch.data.hardwareEdition) {
        reasons.set(
          device.id,
          `is a ${modelNumber} ${hardwareEdition}; the batch takes ${batch.data.modelNumber} ${batch.data.hardwareEdition}`,
        )
      }
    }
    return reasons
  }
}
