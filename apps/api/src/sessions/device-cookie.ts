import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { CookieSerializeOptions } from '@fastify/cookie'
import { accountDigest } from './login-throttle.js'

/** How long a browser stays a known device of an account without logging in again. */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 180 * 24 * 60 * 60

const NONCE = /^[A-Za-z0-9_-]{22}$/

/**
 * OWASP's device cookies ("Slow Down Online Guessing Attacks with Device Cookies"): after a
 * right password, the browser gets a cookie that names the account (by digest) and a random
 * device id, signed. A login that comes with it is from a trusted device, which the login
 * throttle counts on its own (LoginThrottle): failures elsewhere never keep the owner out.
 *
 * One cookie per account (its name carries the account's digest), so the agents who share a
 * packing station each have theirs. Sent only to /auth (login, password change), HttpOnly,
 * SameSite=Strict. Signed with a key derived from SESSION_SECRETS for this use alone: the
 * first signs, all verify, so secrets rotate as the session cookie's do.
 */
export class DeviceCookies {
  readonly #keys: Buffer[]

  constructor(secrets: ReadonlyArray<string>) {
    this.#keys = secrets.map((secret) => createHmac('sha256', secret).update('tms device cookie v1').digest())
  }

  /** The cookie's name for this account. */
  nameFor(email: string): string {
    return `tms.device.${accountDigest(email).slice(0, 16)}`
  }

  /** A new device id for the account: the cookie's value and how to set it. */
  issue(email: string, secure: boolean): { name: string; value: string; options: CookieSerializeOptions } {
    const device = randomBytes(16).toString('base64url')
    return {
      name: this.nameFor(email),
      value: `${device}.${this.#mac(this.#keys[0]!, email, device).toString('base64url')}`,
      options: {
        path: '/auth',
        httpOnly: true,
        sameSite: 'strict',
        secure,
        maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS,
      },
    }
  }

  /** The device id of a valid cookie of this account; null for none, another account's, or a forged one. */
  verify(email: string, value: string | undefined): string | null {
    if (!value) return null
    const dot = value.indexOf('.')
    const device = value.slice(0, dot)
    if (dot < 0 || !NONCE.test(device)) return null
    const presented = Buffer.from(value.slice(dot + 1), 'base64url')
    const valid = this.#keys.some((key) => {
      const expected = this.#mac(key, email, device)
      return presented.length === expected.length && timingSafeEqual(presented, expected)
    })
    return valid ? device : null
  }

  #mac(key: Buffer, email: string, device: string): Buffer {
    return createHmac('sha256', key)
      .update(`${accountDigest(email)}.${device}`)
      .digest()
  }
}
