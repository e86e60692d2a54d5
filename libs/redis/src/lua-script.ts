import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * A Lua script run with EVALSHA, falling back to EVAL when Redis does not know it yet (after a
 * restart or SCRIPT FLUSH). ioredis's defineCommand does the same through a method it adds to
 * the client; but an auto-pipeline created before that (by any command earlier in the same
 * tick) lacks the method, the call throws inside ioredis, and the pipeline's replies no longer
 * match its callbacks: an uncaught TypeError that took an API instance down under load (found
 * by the deploy rehearsal). EVALSHA and EVAL are ordinary commands, safe on any pipeline.
 */
export class LuaScript {
  readonly #sha: string

  constructor(
    readonly name: string,
    private readonly lua: string,
    private readonly numberOfKeys: number,
  ) {
    this.#sha = createHash('sha1').update(lua).digest('hex')
  }

  async run<T>(redis: Redis, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>): Promise<T> {
    if (keys.length !== this.numberOfKeys) throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`)
    try {
      return (await redis.evalsha(this.#sha, keys.length, ...keys, ...args)) as T
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return (await redis.eval(this.lua, keys.length, ...keys, ...args)) as T
    }
  }
}
