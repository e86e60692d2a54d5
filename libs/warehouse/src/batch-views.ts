import type { Stored } from '@tms/storage'
import type { Device, RefurbishmentBatch } from './collections.js'
import type { BatchDevice, BatchView } from './views.js'

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

export function batchDevice(stored: Stored<Device>): BatchDevice {
  return {
    deviceId: stored.id,
    addedAt: stored.data.addedToBatchAt,
    trackingNumber: stored.data.trackingNumber,
    masterboxId: stored.data.masterboxId,
    innerboxId: stored.data.innerboxId,
  }
}
