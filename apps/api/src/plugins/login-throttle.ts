import type { Keyspace } from '@tms/redis'
import type { Redis } from 'ioredis'

export interface LoginThrottleLimits {
  perAccount: number
  perIp: number
  windowSeconds: number
}

/**
 * Failed logins counted per account and per client address in Redis, so the limit holds across
 * all instances: guessing a password by spreading attempts over instances gains nothing.
 */
export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly limits: LoginThrottleLimits,
  ) {}

  /** Seconds until another attempt is allowed, or 0 when one is allowed now. */
  async retryAfter(email: string, ip: string): Promise<number> {
    const account = this.keys.key('account', email.toLowerCase())
    const address = this.keys.key('ip', ip)
    const replies = (await this.redis.multi().get(account).ttl(account).get(address).ttl(address).exec()) ?? []
    const [failures, failuresTtl, ipFailures, ipTtl] = replies.map(([error, value]) => {
      if (error) throw error
      return Number(value ?? 0)
    }) as [number, number, number, number]
    let wait = 0
    if (failures >= this.limits.perAccount) wait = Math.max(wait, failuresTtl)
    if (ipFailures >= this.limits.perIp) wait = Math.max(wait, ipTtl)
    return wait
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const account = this.keys.key('account', email.toLowerCase())
    const address = this.keys.key('ip', ip)
    const window = this.limits.windowSeconds
    await this.redis.multi().incr(account).expire(account, window, 'NX').incr(address).expire(address, window, 'NX').exec()
  }

  async recordSuccess(email: string): Promise<void> {
    await this.redis.del(this.keys.key('account', email.toLowerCase()))
  }
}
