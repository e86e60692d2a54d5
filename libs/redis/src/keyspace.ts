/**
 * Builds Redis keys under one prefix. The prefix is explicit (not ioredis' keyPrefix) because
 * SCAN patterns, Lua scripts, BullMQ and redis-semaphore all need to see the same full key.
 */
export class Keyspace {
  constructor(readonly prefix: string) {}

  key(...parts: Array<string | number>): string {
    return this.prefix + parts.join(':')
  }

  /** A nested namespace, e.g. `keyspace.child('sess')` for `tms:sess:`. */
  child(name: string): Keyspace {
    return new Keyspace(`${this.prefix}${name}:`)
  }
}
