import { type LockService, NotLockHolderError, ObjectLockedError, type ObjectPattern } from '@tms/locks'
import { conflict } from './errors.js'
import type { Shipments, ShipmentView } from './shipments.js'

export const SHIPMENT_CLAIM: ObjectPattern = 'shipment:<id>:claim'

export interface Claim {
  shipmentId: string
  claimedBy: string
  expiresAt: string
}

/** Who is at the packing station: the lock's holder is the agent's id, the name is for people. */
export interface Agent {
  id: string
  name: string
}

/**
 * The packing station's flow: an agent claims a shipment for a while, packs it under that
 * claim, and nobody else is offered it meanwhile. Claims are object locks in Redis, so every
 * instance sees them; packing writes with the claim's fencing token.
 */
export class PackingClaims {
  constructor(
    private readonly locks: LockService,
    private readonly shipments: Shipments,
    private readonly ttlMs: number,
  ) {}

  async claim(shipmentId: string, agent: Agent): Promise<Claim> {
    let lock: { expiresAt: Date }
    try {
      lock = await this.locks.lockObject(SHIPMENT_CLAIM, shipmentId, agent.id, this.ttlMs)
    } catch (error) {
      if (error instanceof ObjectLockedError) {
        throw conflict(`shipment ${shipmentId} is claimed by another agent until ${error.expiresAt.toISOString()}`)
      }
      throw error
    }
    // The status is read under the claim, not before it: packing releases the claim only after
    // its write, so whoever takes the claim next sees that write. Read first, another agent
    // could pack and release in between and leave us a claim on a packed shipment (seen in the
    // deploy rehearsal: a pack answered "is SHIPPED, not PENDING" after a successful claim).
    try {
      const shipment = await this.shipments.get(shipmentId)
      if (shipment.status !== 'PENDING') throw conflict(`shipment ${shipmentId} is ${shipment.status}, not PENDING`)
    } catch (error) {
      await this.locks.releaseObjectLock(SHIPMENT_CLAIM, shipmentId, agent.id).catch(() => undefined)
      throw error
    }
    return { shipmentId, claimedBy: agent.name, expiresAt: lock.expiresAt.toISOString() }
  }

  async extend(shipmentId: string, agent: Agent): Promise<{ expiresAt: string }> {
    try {
      const lock = await this.locks.extendObjectLock(SHIPMENT_CLAIM, shipmentId, agent.id, this.ttlMs)
      return { expiresAt: lock.expiresAt.toISOString() }
    } catch (error) {
      if (error instanceof NotLockHolderError) throw conflict(`you no longer hold the claim on shipment ${shipmentId}`)
      throw error
    }
  }

  async release(shipmentId: string, agent: Agent): Promise<void> {
    await this.locks.releaseObjectLock(SHIPMENT_CLAIM, shipmentId, agent.id)
  }

  /** PENDING → PACKED, only by the agent holding the claim, fenced by the claim's token. */
  async pack(shipmentId: string, agent: Agent): Promise<ShipmentView> {
    const claim = await this.locks.getObjectLock(SHIPMENT_CLAIM, shipmentId)
    if (!claim) throw conflict(`claim shipment ${shipmentId} before packing it`)
    if (claim.holder !== agent.id) throw conflict(`shipment ${shipmentId} is claimed by another agent`)
    const packed = await this.shipments.pack(shipmentId, agent.name, { fencingToken: claim.fencingToken })
    await this.locks.releaseObjectLock(SHIPMENT_CLAIM, shipmentId, agent.id)
    return packed
  }

  /** The talk's findPendingShipments: pending shipments nobody has claimed. */
  async pending(limit: number): Promise<ShipmentView[]> {
    const claimed = await this.locks.getLockedObjectIds(SHIPMENT_CLAIM)
    return this.shipments.list({ status: 'PENDING', limit, excludeIds: claimed })
  }
}
