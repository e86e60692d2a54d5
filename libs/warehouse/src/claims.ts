import type { ObjectPattern } from '@tms/locks'

/** Who is at the packing station: a lock's holder is the agent's id, the name is for people. */
export interface Agent {
  id: string
  name: string
}

/** An agent holds a shipment while packing it. */
export const SHIPMENT_CLAIM: ObjectPattern = 'shipment:<id>:claim'
/** An agent holds a refurbishment batch while filling it from a scanner, and while packing it. */
export const BATCH_CLAIM: ObjectPattern = 'refurbishment-batch:<id>:claim'

/**
 * Claims of both kinds count towards one limit per agent (MAX_CLAIMS_PER_AGENT): an agent who
 * may hold three shipments may not hold three shipments and every batch besides.
 */
export const claimLimit = (most: number, kind: ObjectPattern) => ({
  most,
  countWith: [kind === SHIPMENT_CLAIM ? BATCH_CLAIM : SHIPMENT_CLAIM],
})
