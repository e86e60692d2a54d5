import { HeldLimitError, type LockService, NotLockHolderError, ObjectLockedError } from '@tms/locks'
import { type Agent, claimLimit, SHIPMENT_CLAIM } from './claims.js'
import { WarehouseError } from './errors.js'
import type { Shipments } from './shipments.js'
import type { ShipmentView } from './views.js'

export { type Agent, SHIPMENT_CLAIM } from './claims.js'

export interface Claim {
  shipmentId: string
  claimedBy: string
  expiresAt: string
}

export interface PackingClaimsOptions {
  /** How long a claim lives without being extended. */
  ttlMs: number
  /**
   * Claims one agent may hold at once, shipments and refurbishment batches together: nobody can
   * take every pending shipment off the list.
   */
  maxClaimsPerAgent: number
}

/** What housekeeping did with the claims it looked at. */
export interface StaleClaimsReport {
  released: number
  /** Claims whose shipment could not be read (the database blipped): left alone, looked at next time. */
  unchecked: number
}

/**
 * The packing station's flow: an agent claims a shipment for a while, packs it under that
 * claim, and nobody else is offered it meanwhile. Claims are object locks in Redis, so every
 * instance sees them; packing writes with the claim's fencing token.
 */
export class PackingClaims {
  private readonly ttlMs: number

  constructor(
    private readonly locks: LockService,
    private readonly shipments: Shipments,
    private readonly options: PackingClaimsOptions,
  ) {
    this.ttlMs = options.ttlMs
  }

  /**
   * Holds the shipment for the agent. At most `maxClaimsPerAgent` at once: the count and the new
   * claim are one step in Redis, so fifty parallel claims by one agent, on any number of
   * instances, end with exactly the limit held.
   */
  async claim(shipmentId: string, agent: Agent): Promise<Claim> {
    let lock: { expiresAt: Date }
    try {
      lock = await this.locks.lockObject(
        SHIPMENT_CLAIM,
        shipmentId,
        agent.id,
        this.ttlMs,
        claimLimit(this.options.maxClaimsPerAgent, SHIPMENT_CLAIM),
      )
    } catch (error) {
      if (error instanceof HeldLimitError) throw tooManyClaims(error)
      if (error instanceof ObjectLockedError) {
        throw new WarehouseError(
          'CLAIMED_BY_ANOTHER',
          `shipment ${shipmentId} is claimed by another agent until ${error.expiresAt.toISOString()}`,
        )
      }
      throw error
    }
    // The status is read under the claim, not before it: packing releases the claim only after
    // its write, so whoever takes the claim next sees that write. Read first, another agent
    // could pack and release in between and leave us a claim on a packed shipment (seen in the
    // deploy rehearsal: a pack answered "is SHIPPED, not PENDING" after a successful claim).
    try {
      const shipment = await this.shipments.get(shipmentId)
      if (shipment.status !== 'PENDING') {
        throw new WarehouseError('WRONG_STATUS', `shipment ${shipmentId} is ${shipment.status}, not PENDING`)
      }
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
      if (error instanceof NotLockHolderError) {
        throw new WarehouseError('CLAIM_LOST', `you no longer hold the claim on shipment ${shipmentId}`)
      }
      throw error
    }
  }

  async release(shipmentId: string, agent: Agent): Promise<void> {
    await this.locks.releaseObjectLock(SHIPMENT_CLAIM, shipmentId, agent.id)
  }

  /** PENDING → PACKED, only by the agent holding the claim, fenced by the claim's token. */
  async pack(shipmentId: string, agent: Agent): Promise<ShipmentView> {
    const claim = await this.locks.getObjectLock(SHIPMENT_CLAIM, shipmentId)
    if (!claim) throw new WarehouseError('CLAIM_NEEDED', `claim shipment ${shipmentId} before packing it`)
    if (claim.holder !== agent.id)
      throw new WarehouseError('CLAIMED_BY_ANOTHER', `shipment ${shipmentId} is claimed by another agent`)
    const packed = await this.shipments.pack(shipmentId, agent, { fencingToken: claim.fencingToken })
    // The write is the truth: the shipment is packed. If the release fails now (Redis blips),
    // answering an error would make the agent retry into a 409; the claim expires on its own,
    // and housekeeping releases claims on shipments that are no longer PENDING.
    await this.locks.releaseObjectLock(SHIPMENT_CLAIM, shipmentId, agent.id).catch(() => undefined)
    return packed
  }

  /** Pending shipments nobody has claimed. */
  async pending(limit: number): Promise<ShipmentView[]> {
    const claimed = await this.locks.getLockedObjectIds(SHIPMENT_CLAIM)
    return this.shipments.list({ status: 'PENDING', limit, excludeIds: claimed })
  }
}

/**
 * Housekeeping: releases claims on shipments known not to be PENDING any more (packed by other
 * means, shipped, gone). A shipment that cannot be read keeps its claim: dropping it on a
 * database blip would let another agent take a parcel someone is packing.
 */
export async function releaseStaleClaims(
  deps: { locks: LockService; shipments: Shipments },
  signal?: AbortSignal,
): Promise<StaleClaimsReport> {
  const { locks, shipments } = deps
  const report: StaleClaimsReport = { released: 0, unchecked: 0 }
  for (const id of await locks.getLockedObjectIds(SHIPMENT_CLAIM)) {
    signal?.throwIfAborted()
    let pending: boolean
    try {
      pending = (await shipments.get(id)).status === 'PENDING'
    } catch (error) {
      if (!(error instanceof WarehouseError && error.code === 'NOT_FOUND')) {
        report.unchecked++
        continue
      }
      pending = false
    }
    if (pending) continue
    const claim = await locks.getObjectLock(SHIPMENT_CLAIM, id)
    if (claim && (await locks.releaseObjectLock(SHIPMENT_CLAIM, id, claim.holder))) report.released++
  }
  return report
}

/** An agent at the limit of claims, shipments and batches together. */
export function tooManyClaims(error: HeldLimitError): WarehouseError {
  return new WarehouseError(
    'TOO_MANY_CLAIMS',
    `you already hold ${error.held} claims on shipments and batches (the most one agent may hold); pack or release one first`,
  )
}
