import { setTimeout as sleep } from 'node:timers/promises'
import { checkPage, type OrdersPage } from './shop-orders.js'

/** The most a page of orders may weigh: 100 orders of 200 lines are far below it. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024

export class ShopError extends Error {
  override name = 'ShopError'
}

/**
 * The web shop's order API: every request bounded by a timeout, retried on timeouts, network
 * errors and 5xx with backoff (3 attempts), and stopped at once when the job is aborted.
 */
export class ShopClient {
  readonly #headers: Record<string, string>
  readonly #attempts: number

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    options: { attempts?: number; authorization?: string | undefined } = {},
  ) {
    this.#attempts = options.attempts ?? 3
    this.#headers = options.authorization ? { authorization: options.authorization } : {}
  }

  async orders(after: number, limit: number, signal: AbortSignal): Promise<OrdersPage> {
    const url = new URL('/orders', this.baseUrl)
    url.searchParams.set('after', String(after))
    url.searchParams.set('limit', String(limit))
    return this.#withRetries(signal, async (attemptSignal) => {
      const response = await fetch(url, { headers: this.#headers, signal: attemptSignal })
      this.#check(response)
      let raw: unknown
      try {
        raw = JSON.parse(await readBounded(response, MAX_PAGE_BYTES))
      } catch (error) {
        if (error instanceof ShopError) throw error
        throw permanent(new ShopError('the shop answered with something that is not JSON'))
      }
      const checked = checkPage(raw)
      if (!checked.ok) throw permanent(new ShopError(`the shop answered a malformed page: ${checked.problems.join('; ')}`))
      return checked.page
    })
  }

  /** Tells the shop an order shipped (its webhook is idempotent). */
  async notifyShipped(orderId: string, body: { shipmentId: string; trackingNumber: string }, signal: AbortSignal): Promise<void> {
    await this.#post(`/orders/${encodeURIComponent(orderId)}/shipment`, body, signal)
  }

  /** Tells the shop that several orders shipped, in one call (at most 100; the webhook is idempotent). */
  async notifyShippedMany(
    shipments: ReadonlyArray<{ orderId: string; shipmentId: string; trackingNumber: string }>,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#post('/shipment-notifications', { shipments }, signal)
  }

  /** Tells the shop an order will not ship (its webhook is idempotent). */
  async notifyCancelled(orderId: string, body: { requestId: string; reason: string }, signal: AbortSignal): Promise<void> {
    await this.#post(`/orders/${encodeURIComponent(orderId)}/cancellation`, body, signal)
  }

  /** A JSON POST to one of the shop's webhooks, with the client's retries and bounds. */
  async #post(path: string, body: object, signal: AbortSignal): Promise<void> {
    const url = new URL(path, this.baseUrl)
    await this.#withRetries(signal, async (attemptSignal) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...this.#headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: attemptSignal,
      })
      this.#check(response)
    })
  }

  #check(response: Response): void {
    if (response.status >= 500) throw new ShopError(`shop answered ${response.status}`)
    if (!response.ok) throw permanent(new ShopError(`shop answered ${response.status}`))
  }

  async #withRetries<T>(signal: AbortSignal, attempt: (attemptSignal: AbortSignal) => Promise<T>): Promise<T> {
    let lastError: unknown
    for (let tries = 1; tries <= this.#attempts; tries++) {
      signal.throwIfAborted()
      try {
        return await this.#bounded(signal, attempt)
      } catch (error) {
        if (signal.aborted || (error as { permanent?: boolean }).permanent) throw error
        lastError = error
        if (tries < this.#attempts) await sleep(200 * 2 ** tries, undefined, { signal })
      }
    }
    const reason =
      (lastError as Error)?.name === 'TimeoutError'
        ? `no answer within ${this.timeoutMs} ms`
        : withoutUrls((lastError as Error)?.message)
    // Not the URL: this message is logged, stored with the run and shown to operators, and the
    // URL may name an internal host.
    throw new ShopError(`the shop failed ${this.#attempts} times: ${reason}`)
  }

  /**
   * One try, over after timeoutMs whatever fetch does. Not AbortSignal.timeout: Node holds that
   * signal weakly, and undici follows a request's signal through a WeakRef, so after a garbage
   * collection a timed-out fetch could wait forever (seen: a sync run "running" for 30 s
   * against a shop that never answered). Our own timer, and a race on the abort itself.
   */
  async #bounded<T>(signal: AbortSignal, attempt: (attemptSignal: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = new AbortController()
    const timer = setTimeout(
      () => timeout.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError')),
      this.timeoutMs,
    )
    const attemptSignal = AbortSignal.any([signal, timeout.signal])
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(attemptSignal.reason)
      attemptSignal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([attempt(attemptSignal), aborted])
    } finally {
      clearTimeout(timer)
      attemptSignal.removeEventListener('abort', onAbort!)
    }
  }
}

/** An error that a retry would only repeat. */
const permanent = (error: ShopError) => Object.assign(error, { permanent: true })

/** True when the shop refused the request itself (a 4xx, a malformed answer): sending it again would not help. */
export const isRefusal = (error: unknown) => error instanceof ShopError && (error as { permanent?: boolean }).permanent === true

/** The body as text, or a ShopError once it passes `maxBytes` (read no further). */
async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const tooLarge = () => permanent(new ShopError(`the shop answered more than ${maxBytes} bytes`))
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel()
    throw tooLarge()
  }
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength
    if (size > maxBytes) throw tooLarge() // leaving the loop cancels the stream
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** A message with every URL in it replaced: an error of fetch's may quote the one it was given. */
export const withoutUrls = (message: string | undefined) =>
  String(message ?? 'unknown error').replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '(the shop)')
