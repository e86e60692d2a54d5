import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { type Accounts, type Authentication, WarehouseError } from '@tms/warehouse'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ApiError } from '../http/api-errors.js'
import { SESSION_COOKIE } from '../plugins/sessions.js'
import type { DeviceCookies } from '../sessions/device-cookie.js'
import type { LoginAttempt, LoginThrottle } from '../sessions/login-throttle.js'
import { authErrors, email, errorBody, newPassword, password, userView } from './schemas.js'

export async function authRoutes(
  parent: FastifyInstance,
  options: { accounts: Accounts; throttle: LoginThrottle; devices: DeviceCookies },
) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  const { accounts, throttle, devices } = options

  /**
   * A password check of `account` from this request, within the login limits (the same for a
   * login and a password change: an unattended terminal must not be a free guessing machine).
   * The browser's device cookie of the account, if valid, makes it a trusted device.
   */
  async function reserveCheck(
    request: FastifyRequest,
    account: string,
  ): Promise<{ attempt: LoginAttempt & { allowed: true }; trusted: boolean }> {
    const device = devices.verify(account, request.cookies[devices.nameFor(account)])
    const attempt = await throttle.reserve(account, request.ip, device ?? undefined)
    if (!attempt.allowed) {
      const wait = attempt.retryAfterSeconds
      throw new ApiError('TOO_MANY_LOGINS', `too many failed logins; try again in ${wait} s`, {
        'retry-after': String(wait),
      })
    }
    return { attempt, trusted: device !== null }
  }

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        body: {
          type: 'object',
          properties: { email, password },
          required: ['email', 'password'],
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { user: userView } },
          401: errorBody,
          403: errorBody,
          429: errorBody,
          503: errorBody,
        },
      },
    },
    async (request, reply) => {
      const { email: address, password } = request.body
      const { attempt, trusted } = await reserveCheck(request, address)
      let outcome: Authentication
      try {
        outcome = await accounts.login(address, password)
      } catch (error) {
        // Not a failed login: nobody checked the password. Best effort; the reservation expires anyway.
        await throttle.notChecked(attempt.reservation).catch(() => undefined)
        throw error
      }
      if ('refused' in outcome && outcome.refused === 'wrong-credentials') {
        throw new ApiError('WRONG_CREDENTIALS', 'wrong email or password')
      }
      // The right password: no failure, whatever follows, and this browser is a known device of the account.
      await throttle.succeeded(attempt.reservation)
      if (!trusted) {
        const cookie = devices.issue(address, request.protocol === 'https')
        reply.setCookie(cookie.name, cookie.value, cookie.options)
      }
      if (!('user' in outcome)) throw new WarehouseError('ACCOUNT_DISABLED', 'this account is disabled; ask an admin')
      const { id, email: userEmail, roles } = outcome.user
      // A new id at login, and the old one deleted: a session id planted before login is worthless.
      await request.session.regenerate()
      // The start goes with the user, in the first write: a session stored without it would
      // have no absolute end.
      request.session.user = { id, email: userEmail, roles }
      request.session.startedAt = Date.now()
      await request.session.save()
      // An admin may have disabled or changed this user between the password check and now,
      // and ended their sessions before this one existed: look again, now that it does.
      const now = await accounts.getUser(id)
      if (!now || now.disabled || now.roles.join() !== roles.join()) {
        await request.session.destroy()
        throw new WarehouseError('CHANGED_MEANWHILE', 'the account was changed while logging in; log in again')
      }
      // Written when the answer is sent (changed since the save, so saved once more, and the
      // answer carries one cookie, not a cleared one beside it).
      request.session.client = { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 200) }
      return { user: { id, email: userEmail, roles } }
    },
  )

  app.post('/auth/logout', { schema: { tags: ['auth'], response: { 204: { type: 'null' } } } }, async (request, reply) => {
    if (request.session?.user) await request.session.destroy()
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
    return reply.code(204).send(null)
  })

  app.get(
    '/auth/me',
    { schema: { tags: ['auth'], response: { 200: { type: 'object', properties: { user: userView } }, 401: errorBody } } },
    async (request) => {
      const user = request.session?.user
      if (!user) throw new ApiError('LOGIN_REQUIRED', 'not logged in')
      return { user }
    },
  )

  app.patch(
    '/auth/me/preferences',
    {
      onRequest: app.requireRole('agent'),
      schema: {
        tags: ['auth'],
        description: "The agent's packing station and label printer for this shift, kept in the session.",
        body: {
          type: 'object',
          properties: {
            packingStation: { type: 'string', pattern: '^[A-Za-z0-9-]{1,32}$' },
            labelPrinter: { type: 'string', pattern: '^[A-Za-z0-9-]{1,32}$' },
          },
          additionalProperties: false,
          minProperties: 1,
        },
      },
    },
    async (request) => {
      const body = request.body
      if (request.principal?.kind !== 'user') throw new ApiError('USER_ONLY', 'preferences belong to a logged-in user')
      if (body.packingStation !== undefined) request.session.packingStation = body.packingStation
      if (body.labelPrinter !== undefined) request.session.labelPrinter = body.labelPrinter
      return { packingStation: request.session.packingStation ?? null, labelPrinter: request.session.labelPrinter ?? null }
    },
  )

  app.get('/auth/me/preferences', { onRequest: app.requireRole('agent'), schema: { tags: ['auth'] } }, async (request) => ({
    packingStation: request.session?.packingStation ?? null,
    labelPrinter: request.session?.labelPrinter ?? null,
  }))

  const sessionView = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      startedAt: { type: ['string', 'null'] },
      client: {
        type: ['object', 'null'],
        properties: { ip: { type: 'string' }, userAgent: { type: 'string' } },
        required: ['ip', 'userAgent'],
        additionalProperties: false,
      },
      current: { type: 'boolean' },
    },
    required: ['id', 'startedAt', 'client', 'current'],
    additionalProperties: false,
  } as const
  const sessionParams = {
    type: 'object',
    properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } },
    required: ['id'],
    additionalProperties: false,
  } as const
  const userOnly = (request: { principal: { kind: string; id: string } | null }) => {
    if (request.principal?.kind !== 'user')
      throw new ApiError('USER_ONLY', 'only a person with a session has sessions and a password')
    return request.principal.id
  }

  app.get(
    '/auth/me/sessions',
    {
      onRequest: app.requireRole(['agent', 'partner']),
      schema: {
        tags: ['auth'],
        description: "The caller's sessions on every device: when each started, from where, which is this one.",
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: sessionView } } }, ...authErrors },
      },
    },
    async (request) => ({ items: await app.userSessions.list(userOnly(request), request.session.sessionId) }),
  )

  app.delete(
    '/auth/me/sessions/:id',
    {
      onRequest: app.requireRole(['agent', 'partner']),
      schema: {
        tags: ['auth'],
        description: 'Logs one of the caller’s sessions out (a terminal left logged in elsewhere).',
        params: sessionParams,
        response: { 204: { type: 'null' }, ...authErrors, 404: errorBody },
      },
    },
    async (request, reply) => {
      if (!(await app.userSessions.end(userOnly(request), request.params.id))) {
        throw new WarehouseError('NOT_FOUND', `you have no session ${request.params.id}`)
      }
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/auth/me/password',
    {
      onRequest: app.requireRole(['agent', 'partner']),
      schema: {
        tags: ['auth'],
        description:
          'Changes the caller’s password, given the current one, within the login limits (429 TOO_MANY_LOGINS). Every session of the caller ends: log in again.',
        body: {
          type: 'object',
          properties: { currentPassword: password, newPassword },
          required: ['currentPassword', 'newPassword'],
          additionalProperties: false,
        },
        response: { 204: { type: 'null' }, ...authErrors, 429: errorBody, 503: errorBody },
      },
    },
    async (request, reply) => {
      const id = userOnly(request)
      const { attempt } = await reserveCheck(request, request.principal!.name)
      let takenBack = false
      try {
        // Every session of the user ends before the new password is written; if Redis cannot
        // end them, nothing changes.
        await accounts.changeOwnPassword(id, request.body.currentPassword, request.body.newPassword, {
          beforeWrite: async () => {
            takenBack = true
            await throttle.succeeded(attempt.reservation)
            await app.userSessions.endAll(id)
          },
        })
      } catch (error) {
        // A wrong current password stays counted; a check that could not run counts for nothing.
        if (!takenBack && !(error instanceof WarehouseError && error.code === 'WRONG_PASSWORD')) {
          await throttle.notChecked(attempt.reservation).catch(() => undefined)
        }
        throw error
      }
      await app.userSessions.endAll(id).catch((error: unknown) => request.log.warn({ err: error }, 'sessions not ended again'))
      reply.clearCookie(SESSION_COOKIE, { path: '/' })
      return reply.code(204).send(null)
    },
  )
}
