import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { Accounts } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { ApiError } from '../http/api-errors.js'
import type { LoginThrottle } from '../sessions/login-throttle.js'
import { SESSION_COOKIE } from '../plugins/sessions.js'
import { email, errorBody, userView } from './schemas.js'

export async function authRoutes(parent: FastifyInstance, options: { accounts: Accounts; throttle: LoginThrottle }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  const { accounts, throttle } = options

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        body: {
          type: 'object',
          properties: { email, password: { type: 'string', minLength: 1, maxLength: 1024 } },
          required: ['email', 'password'],
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { user: userView } }, 401: errorBody, 429: errorBody },
      },
    },
    async (request) => {
      const { email: address, password } = request.body
      const attempt = await throttle.reserve(address, request.ip)
      if (!attempt.allowed) {
        const wait = attempt.retryAfterSeconds
        throw new ApiError('TOO_MANY_LOGINS', `too many failed logins; try again in ${wait} s`, { 'retry-after': String(wait) })
      }
      let user: Awaited<ReturnType<Accounts['authenticate']>>
      try {
        user = await accounts.authenticate(address, password)
      } catch (error) {
        // Not a failed login: nobody checked the password. Best effort; the reservation expires anyway.
        await throttle.notChecked(attempt.reservation).catch(() => undefined)
        throw error
      }
      if (!user) throw new ApiError('WRONG_CREDENTIALS', 'wrong email or password')
      await throttle.succeeded(attempt.reservation)
      // A new id at login, and the old one deleted: a session id planted before login is worthless.
      await request.session.regenerate()
      request.session.user = user
      return { user }
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
}
