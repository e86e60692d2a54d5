import { type Accounts, hasRole, type Principal, type Role } from '@tms/warehouse'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../http/api-errors.js'
import type { TokenUsage } from '../sessions/token-usage.js'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyInstance {
    /**
     * An onRequest hook that lets through callers holding `role` (or a higher one), else 401/403.
     * onRequest, not preHandler: it runs before the body is parsed and validated, so a caller
     * who may not use a route cannot make the instance parse and validate what it sent.
     */
    requireRole(role: Role | Role[]): onRequestAsyncHookHandler
    /**
     * requireRole, for people with a session only: what an API token must never do (manage
     * users and tokens: an admin token could otherwise reset an admin's password and take the
     * account).
     */
    requirePerson(role: Role | Role[]): onRequestAsyncHookHandler
  }
}

/**
 * Who is calling: a machine client by `Authorization: Bearer <token>` (checked against the
 * stored hash on every request, so revocation is immediate), or a person by session cookie.
 */
export const authentication = fp<{ accounts: Accounts; tokenUsage: TokenUsage }>(
  async (app: FastifyInstance, { accounts, tokenUsage }) => {
    app.decorateRequest('principal', null)

    async function identify(request: FastifyRequest): Promise<Principal | null> {
      const header = request.headers.authorization
      if (header !== undefined) {
        const match = /^Bearer\s+(\S+)$/i.exec(header)
        const principal = match ? await accounts.verifyApiToken(match[1]!) : null
        if (!principal) throw new ApiError('INVALID_TOKEN', 'invalid, expired or revoked API token')
        tokenUsage.touch(principal.id)
        return principal
      }
      const user = request.session?.user
      return user ? { kind: 'user', id: user.id, name: user.email, roles: user.roles } : null
    }

    const roleCheck = (role: Role | Role[], people: boolean) => {
      const anyOf = Array.isArray(role) ? role : [role]
      const needs = anyOf.length === 1 ? `the ${anyOf[0]} role` : `one of the roles ${anyOf.join(', ')}`
      return async function requireRole(request: FastifyRequest, _reply: FastifyReply) {
        request.principal = await identify(request)
        if (!request.principal) throw new ApiError('LOGIN_REQUIRED', 'log in first (session cookie or Bearer token)')
        const principal = request.principal
        if (!anyOf.some((r) => hasRole(principal, r))) throw new ApiError('ROLE_REQUIRED', `this needs ${needs}`)
        if (people && principal.kind !== 'user') {
          throw new ApiError('USER_ONLY', 'this is for a person logged in, not for an API token')
        }
      }
    }
    app.decorate('requireRole', (role: Role | Role[]) => roleCheck(role, false))
    app.decorate('requirePerson', (role: Role | Role[]) => roleCheck(role, true))
  },
  { name: 'tms-authentication', fastify: '5.x', dependencies: ['tms-sessions'] },
)
