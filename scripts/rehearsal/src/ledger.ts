/**
 * What the load did that must still hold afterwards: every write the API acknowledged, every
 * pack (a shipment is packed once), every claim (one holder at a time), every lost session.
 */
export class Ledger {
  readonly createdRequests = new Map<string, string>()
  /** shipment id -> the agents who got 200 packing it (more than one is a double pack). */
  readonly packs = new Map<string, string[]>()
  readonly shipped = new Map<string, string>()
  readonly doubleClaims: Array<{ shipmentId: string; holders: [string, string] }> = []
  readonly sessionLosses: Array<{ at: number; email: string; route: string; instance?: string | undefined }> = []
  readonly #holders = new Map<string, string>()

  claimed(shipmentId: string, agent: string): void {
    const holder = this.#holders.get(shipmentId)
    if (holder && holder !== agent) this.doubleClaims.push({ shipmentId, holders: [holder, agent] })
    this.#holders.set(shipmentId, agent)
  }

  letGo(shipmentId: string, agent: string): void {
    if (this.#holders.get(shipmentId) === agent) this.#holders.delete(shipmentId)
  }

  /** Masterboxes partners registered whose devices no batch has taken yet (agents take them). */
  readonly freshMasterboxes: string[] = []
  readonly createdBatches = new Set<string>()
  /** batch id -> tracking number it shipped with (200). */
  readonly shippedBatches = new Map<string, string>()
  registeredDevices = 0
  fixedRequests = 0

  packed(shipmentId: string, agent: string): void {
    this.packs.set(shipmentId, [...(this.packs.get(shipmentId) ?? []), agent])
    this.letGo(shipmentId, agent)
  }
}
