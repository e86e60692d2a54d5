import { Signer } from '@fastify/cookie'

interface UnsignResult {
  valid: boolean
  renew: boolean
  value: string | null
}

/**
 * @fastify/cookie's Signer (first secret signs, all verify), remembering recent results.
 *
 * Per request @fastify/session verifies the cookie (one HMAC) and then signs the same id again
 * to rebuild the cookie (a second HMAC). A cookie string is remembered only after it verified,
 * so the cache cannot be filled with forgeries; an entry only saves recomputing an HMAC that
 * already passed. Bounded, oldest first out.
 */
export class CachingSigner {
  readonly #signer: Signer
  readonly #verified = new Map<string, UnsignResult>()
  readonly #signed = new Map<string, string>()
  readonly #capacity: number

  constructor(secrets: string[], capacity = 20_000) {
    this.#signer = new Signer(secrets)
    this.#capacity = capacity
  }

  sign(value: string): string {
    const cached = this.#signed.get(value)
    if (cached !== undefined) return cached
    const signed = this.#signer.sign(value)
    remember(this.#signed, value, signed, this.#capacity)
    return signed
  }

  unsign(cookie: string): UnsignResult {
    const cached = this.#verified.get(cookie)
    if (cached !== undefined) return cached
    const result = this.#signer.unsign(cookie) as UnsignResult
    if (result.valid && result.value !== null) {
      remember(this.#verified, cookie, result, this.#capacity)
      if (!result.renew) remember(this.#signed, result.value, cookie, this.#capacity)
    }
    return result
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  if (map.size >= capacity) map.delete(map.keys().next().value as string)
  map.set(key, value)
}
