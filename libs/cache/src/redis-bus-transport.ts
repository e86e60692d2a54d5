import type { Redis } from 'ioredis'

type Handler = (payload: unknown) => void

/**
 * bentocache's bus over our own Redis connections: publishes on the shared command connection,
 * listens on a dedicated subscriber connection. (bentocache's Redis bus duplicates connections
 * we cannot attach listeners to, so outages would print outside our JSON logs.)
 *
 * Invalidations published while the subscriber was disconnected are lost. So after every
 * resubscription it hands bentocache a local `clear`: the in-memory front forgets everything
 * it may hold stale; Redis itself is not touched.
 */
export class RedisBusTransport {
  #id = ''
  readonly #handlers = new Map<string, Handler[]>()
  #disconnected = false

  /**
   * @param namespaces the bentocache namespaces (its `prefix`) whose in-memory front a `clear`
   *   must reach after a resubscription
   */
  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly namespaces: string[],
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    subscriber.on('message', (channel: string, raw: string) => this.#deliver(channel, raw))
    subscriber.on('close', () => {
      this.#disconnected = true
    })
    subscriber.on('ready', () => {
      if (!this.#disconnected) return
      this.#disconnected = false
      for (const handlers of this.#handlers.values()) {
        for (const handle of handlers) for (const namespace of this.namespaces) handle({ keys: [], type: 'clear', namespace })
      }
    })
  }

  setId(id: string): this {
    this.#id = id
    return this
  }

  onReconnect(callback: () => void): void {
    this.subscriber.on('ready', callback)
  }

  async publish(channel: string, message: unknown): Promise<void> {
    await this.publisher.publish(channel, JSON.stringify({ busId: this.#id, payload: message }))
  }

  /**
   * Never rejects: bentocache subscribes without awaiting, so a rejection here would be an
   * unhandled one. ioredis subscribes again by itself after every reconnect.
   */
  async subscribe(channel: string, handler: Handler): Promise<void> {
    this.#handlers.set(channel, [...(this.#handlers.get(channel) ?? []), handler])
    await this.subscriber.subscribe(channel).catch(this.onError)
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#handlers.delete(channel)
    await this.subscriber.unsubscribe(channel)
  }

  async disconnect(): Promise<void> {
    this.#handlers.clear()
  }

  #deliver(channel: string, raw: string): void {
    const handlers = this.#handlers.get(channel)
    if (!handlers) return
    let message: { busId?: string; payload?: unknown }
    try {
      message = JSON.parse(raw)
    } catch {
      return
    }
    if (message.busId === this.#id) return
    for (const handle of handlers) handle(message.payload)
  }
}
