import type { Storage, Stored } from '@tms/storage'
import { Catalogue } from './catalogue.js'
import { type Device, type DeviceStatus, devices } from './collections.js'
import { notFound } from './errors.js'
import { findPage, type Page, type PageRequest } from './page.js'
import type { DeviceView } from './views.js'

/** Device and box ids as partners print them on labels and scanners read them. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9-]{4,40}$'
export const MAX_DEVICES_PER_REGISTRATION = 1000

export interface DeviceInput {
  deviceId: string
  modelNumber: string
  hardwareEdition: string
  innerboxId: string
  masterboxId: string
}

export interface Registration {
  registered: number
  alreadyKnown: number
  rejected: Array<{ index: number; deviceId: string; message: string }>
}

export interface DeviceFilter {
  masterboxId?: string | undefined
  innerboxId?: string | undefined
  modelNumber?: string | undefined
  status?: DeviceStatus | undefined
  /** A partner sees only the devices it registered. */
  registeredBy?: string | undefined
}

/** What identifies a device as a partner registered it: sent again, it must say the same. */
const IDENTITY = ['modelNumber', 'hardwareEdition', 'innerboxId', 'masterboxId'] as const
/**
 * A device id another partner registered: the same words whatever that device is and whatever
 * was sent, so that a partner learns nothing of other partners' devices field by field.
 */
export const REGISTERED_BY_ANOTHER_PARTNER = 'this device id is registered by another partner'

/**
 * The devices manufacturing partners produce. Registration is idempotent per device id: the
 * same device sent again is "already known", sent with other data it is rejected naming the
 * field, and one bad device never fails the others.
 */
export class Devices {
  constructor(
    private readonly storage: Storage,
    private readonly catalogue: Catalogue,
  ) {}

  async register(by: string, inputs: DeviceInput[]): Promise<Registration> {
    const result: Registration = { registered: 0, alreadyKnown: 0, rejected: [] }
    const firstIndex = new Map<string, number>()
    const pending: Array<{ index: number; input: DeviceInput }> = []
    const models = await this.catalogue.knownModels()
    for (const [index, input] of inputs.entries()) {
      const earlier = firstIndex.get(input.deviceId)
      if (earlier !== undefined) {
        const differs = IDENTITY.find((field) => inputs[earlier]![field] !== input[field])
        if (differs)
          result.rejected.push({
            index,
            deviceId: input.deviceId,
            message: `${differs} differs from device #${earlier} of this request`,
          })
        else result.alreadyKnown++
        continue
      }
      firstIndex.set(input.deviceId, index)
      if (!models.has(Catalogue.modelKey(input.modelNumber, input.hardwareEdition))) {
        result.rejected.push({
          index,
          deviceId: input.deviceId,
          message: `model ${input.modelNumber} in edition ${input.hardwareEdition} is not in the catalogue`,
        })
        continue
      }
      pending.push({ index, input })
    }
    // All at once; those whose id was taken (sent before, or by another partner) are read back in one go.
    const inserted = await this.storage.insertMany(
      devices,
      pending.map(({ input: { deviceId, ...identity } }) => ({
        id: deviceId,
        data: {
          ...identity,
          registeredBy: by,
          status: 'IN_STOCK' as const,
          batchId: null,
          addedToBatchAt: null,
          trackingNumber: null,
        },
      })),
    )
    result.registered = inserted.size
    const taken = pending.filter(({ input }) => !inserted.has(input.deviceId))
    const stored = await this.storage.getMany(
      devices,
      taken.map(({ input }) => input.deviceId),
    )
    for (const { index, input } of taken) {
      const outcome = compareStored(by, input, stored.get(input.deviceId))
      if (outcome === 'known') result.alreadyKnown++
      else result.rejected.push({ index, deviceId: input.deviceId, message: outcome.message })
    }
    result.rejected.sort((a, b) => a.index - b.index)
    return result
  }

  list(filter: DeviceFilter, page: PageRequest): Promise<Page<DeviceView>> {
    return findPage(this.storage, devices, { where: filter }, page, deviceView)
  }

  /** NOT_FOUND also for a device of another partner, when `registeredBy` is given: a partner learns nothing of others' devices. */
  async get(deviceId: string, registeredBy?: string): Promise<DeviceView> {
    const stored = await this.storage.get(devices, deviceId)
    if (!stored || (registeredBy !== undefined && stored.data.registeredBy !== registeredBy)) throw notFound('device', deviceId)
    return deviceView(stored)
  }
}

/**
 * A device whose id is taken: the partner's own device again ("already known"), or its own with
 * other data (named by the field that differs: its own data), or another partner's (one generic
 * answer, even when every field sent matches theirs).
 */
function compareStored(by: string, input: DeviceInput, stored: Stored<Device> | undefined): 'known' | { message: string } {
  if (!stored) return { message: 'registered and removed meanwhile; send it again' }
  if (stored.data.registeredBy !== by) return { message: REGISTERED_BY_ANOTHER_PARTNER }
  const differs = IDENTITY.find((field) => stored.data[field] !== input[field])
  if (differs) return { message: `already registered with another ${differs} (${stored.data[differs]})` }
  return 'known'
}

export function deviceView(stored: Stored<Device>): DeviceView {
  const { modelNumber, hardwareEdition, innerboxId, masterboxId, status, batchId, addedToBatchAt, trackingNumber, registeredBy } =
    stored.data
  return {
    deviceId: stored.id,
    modelNumber,
    hardwareEdition,
    innerboxId,
    masterboxId,
    status,
    batchId,
    addedToBatchAt,
    trackingNumber,
    registeredBy,
    registeredAt: stored.createdAt.toISOString(),
  }
}
