import type { Stored } from '@tms/storage'
import type { Device, RefurbishmentBatch } from './collections.js'
import type { BatchDevice, BatchView } from './views.js'

/** A batch as people see it: everything but who packed it by id (only the rule of who may ship reads that). */
export function batchView(stored: Stored<RefurbishmentBatch>): BatchView {
  const { packedById: _packedById, ...shown } = stored.data
  return {
    id: stored.id,
    ...shown,
    createdAt: stored.createdAt.toISOString(),
    updatedAt: stored.updatedAt.toISOString(),
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
