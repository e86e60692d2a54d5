import { randomUUID } from 'node:crypto'
import { DuplicateKeyError, type Storage, type Stored } from '@tms/storage'
import { type QuarantinedOrder, quarantinedOrders } from './collections.js'

/** Bounds on what is kept of an order nobody could read: enough to see what was wrong. */
export const QUARANTINE_LIMITS = { payloadChars: 4096, problems: 10, problemChars: 200 } as const

export interface QuarantinedOrderView {
  id: string
  /** Where it came from and where: `shop:<seq>`. Unique: quarantining the same order again adds nothing. */
  source: string
  orderId: string | null
  problems: string[]
  /** The order as received, as JSON, cut at 4 KB. */
  payload: string
  quarantinedAt: string
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/**
 * Orders that arrived in a shape no shipment request can be made of (no lines, a quantity that
 * is not a number, an id that is not one). They are kept for an operator to see and the sync
 * moves on: one bad order must not stop every order after it.
 */
export class QuarantinedOrders {
  constructor(private readonly storage: Storage) {}

  /** 'recorded', or 'known' when this source was quarantined before (a rerun of the same page). */
  async record(input: {
    source: string
    orderId: string | null
    problems: string[]
    payload: unknown
  }): Promise<'recorded' | 'known'> {
    let payload: string
    try {
      payload = JSON.stringify(input.payload) ?? 'undefined'
    } catch {
      payload = '(not serialisable)'
    }
    const data: QuarantinedOrder = {
      source: clip(input.source, 100),
      orderId: input.orderId === null ? null : clip(input.orderId, 100),
      problems: input.problems.slice(0, QUARANTINE_LIMITS.problems).map((p) => clip(p, QUARANTINE_LIMITS.problemChars)),
      payload: clip(payload, QUARANTINE_LIMITS.payloadChars),
    }
    try {
      await this.storage.insert(quarantinedOrders, randomUUID(), data)
      return 'recorded'
    } catch (error) {
      if (error instanceof DuplicateKeyError) return 'known'
      throw error
    }
  }

  /** Newest first. */
  async list(limit = 100): Promise<QuarantinedOrderView[]> {
    return (await this.storage.find(quarantinedOrders, { order: 'newest', limit })).map(quarantinedOrderView)
  }
}

function quarantinedOrderView(stored: Stored<QuarantinedOrder>): QuarantinedOrderView {
  const { source, orderId, problems, payload } = stored.data
  return { id: stored.id, source, orderId, problems, payload, quarantinedAt: stored.createdAt.toISOString() }
}
