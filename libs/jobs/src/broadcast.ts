import type { Redis } from 'ioredis'

export interface BroadcastMessage {
  type: string
  [field: string]: unknown
}

/**
 * A message every instance receives (Redis pub/sub), unlike a job, which exactly one worker
 * takes. For what each instance must do itself: reload settings, forget a local cache.
 * Fire and forget: an instance that is disconnected at that moment misses it.
 */
export class Broadcast {
  readonly #channel: string

  constructor(
    private readonly publisher: Redis,
    prefix: string,
  ) {
    this.#channel = `${prefix}broadcast`
  }

  /** Resolves with how many instances were listening. */
  async publish(message: BroadcastMessage): Promise<number> {
    return this.publisher.publish(this.#channel, JSON.stringify(message))
  }

  /** Listens on a connection of its own (a subscribed connection can do nothing else). */
  async listen(subscriber: Redis, handler: (message: BroadcastMessage) => void): Promise<void> {
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== this.#channel) return
      try {
        handler(JSON.parse(raw) as BroadcastMessage)
      } catch {
        // A message we cannot read is not ours to crash on.
      }
    })
    await subscriber.subscribe(this.#channel)
  }
}
