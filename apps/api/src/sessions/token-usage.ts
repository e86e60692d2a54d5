import type { Keyspace } from '@tms/redis'
import type { Redis } from 'ioredis'

/** A token's last use is written at most this often per instance: informational, not per request. */
const WRITE_EVERY_MS = 60_000

/**
 * When each API token was last used, for admins deciding what to revoke: one Redis hash, token id
 * → ms, written without waiting and at most once a minute per token per instance, so a machine
 * client's every request costs no write. Lost with Redis's data, like every other hint here.
 */
export class TokenUsage {
  readonly #written = new Map<string, number>()

  constructor(
    private readonly redis: Redis,
    private readonly keyspace: Keyspace,
  ) {}

  get #key(): string {
    return this.keyspace.key('api-token-last-used')
  }

  touch(tokenId: string): void {
    const now = Date.now()
    if (now - (this.#written.get(tokenId) ?? 0) < WRITE_EVERY_MS) return
    this.#written.set(tokenId, now)
    // Bounded: an instance keeps one number per token it has seen.
    if (this.#written.size > 10_000) this.#written.clear()
    this.redis.hset(this.#key, tokenId, String(now)).catch(() => this.#written.delete(tokenId))
  }

  /** Last use of each token asked for (null: not seen, or Redis lost it). */
  async lastUsed(tokenIds: ReadonlyArray<string>): Promise<Map<string, string | null>> {
    if (tokenIds.length === 0) return new Map()
    const values = await this.redis.hmget(this.#key, ...tokenIds)
    return new Map(tokenIds.map((id, i) => [id, values[i] ? new Date(Number(values[i])).toISOString() : null]))
  }
}
