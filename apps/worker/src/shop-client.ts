import { setTimeout as sleep } from 'node:timers/promises'

/** An order as the web shop sends it (its words, not ours: `zip`, `lines`). */
export interface ShopOrder {
  seq: number
  id: string
  createdAt: string
  lines: Array<{ sku: string; quantity: number }>
  shipTo: { name: string; street: string; city: string; zip?: string; country: string }
}

export interface OrdersPage {
  items: ShopOrder[]
  /** The cursor for the next page: the last `seq` returned (or the one asked for if none). */
  next: number
}

export class ShopError extends Error {
  override name = 'ShopError'
}

/**
 * The web shop's order API: every request bounded by a timeout, retried on timeouts, network
 * errors and 5xx with backoff (3 attempts), and stopped at once when the job is aborted.
 */
export class ShopClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly attempts = 3,
  ) {}

  async orders(after: number, limit: number, signal: AbortSignal): Promise<OrdersPage> {
    const url = new URL('/orders', this.baseUrl)
    url.searchParams.set('after', String(after))
    url.searchParams.set('limit', String(limit))
    let lastError: unknown
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      signal.throwIfAborted()
      try {
        const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) })
        if (response.status >= 500) throw new ShopError(`shop answered ${response.status}`)
        if (!response.ok) throw Object.assign(new ShopError(`shop answered ${response.status}`), { permanent: true })
        return (await response.json()) as OrdersPage
      } catch (error) {
        if (signal.aborted || (error as { permanent?: boolean }).permanent) throw error
        lastError = error
        if (attempt < this.attempts) await sleep(200 * 2 ** attempt, undefined, { signal })
      }
    }
    const reason =
      (lastError as Error)?.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (lastError as Error)?.message
    throw new ShopError(`the shop at ${this.baseUrl} failed ${this.attempts} times: ${reason}`)
  }
}
