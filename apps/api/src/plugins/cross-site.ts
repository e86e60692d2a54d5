import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../http/api-errors.js'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Writes a browser sends from another site are refused, whatever cookie they carry: SameSite=Lax
 * keeps the session cookie off cross-site requests, but not off same-site ones (a sibling
 * subdomain), and a no-cors `fetch` of a body-less POST needs no preflight. Fetch metadata says
 * where a request comes from; Go's CrossOriginProtection (net/http, 1.25) decides the same way:
 *
 * - reads (GET, HEAD, OPTIONS) and API-token calls (a page cannot add an Authorization header
 *   across origins without a preflight we never answer) pass;
 * - `Sec-Fetch-Site: same-origin` (our own page) or `none` (typed by the user) passes;
 * - an `Origin` on the allowed list (ALLOWED_ORIGINS) passes;
 * - any other `Sec-Fetch-Site` (cross-site, same-site) is refused;
 * - without it (a browser older than 2023), an `Origin` whose host is ours passes, any other is
 *   refused; without either, the caller is no browser (curl, the shop's scripts), which cannot
 *   carry someone else's cookie, and passes.
 *
 * Runs first on every request of the API, before the session is read.
 */
export const crossSite = fp<{ allowedOrigins: ReadonlyArray<string> }>(
  async (app: FastifyInstance, { allowedOrigins }) => {
    const allowed = new Set(allowedOrigins.map((origin) => origin.toLowerCase()))
    const refuse = () => {
      throw new ApiError('CROSS_SITE_REQUEST', 'a write from another site is refused; use the TMS page itself')
    }
    app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
      if (SAFE.has(request.method) || request.headers.authorization !== undefined) return done()
      const site = request.headers['sec-fetch-site']
      if (site === 'same-origin' || site === 'none') return done()
      const origin = request.headers.origin
      if (origin !== undefined && allowed.has(origin.toLowerCase())) return done()
      try {
        if (site !== undefined) refuse()
        if (origin !== undefined && hostOf(origin) !== request.headers.host?.toLowerCase()) refuse()
      } catch (error) {
        return done(error as Error)
      }
      done()
    })
  },
  { name: 'tms-cross-site', fastify: '5.x' },
)

/** host[:port] of an Origin header, lower case; null for `null` or anything unparseable. */
function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host.toLowerCase()
  } catch {
    return null
  }
}
