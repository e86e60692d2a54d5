import { randomBytes } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import type { Keyspace } from '@tms/redis'
import type { FastifyInstance, FastifyReply, FastifyRequest, Session } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { CachingSigner } from '../sessions/cookie-signer.js'
import { RedisSessionStore } from '../sessions/redis-session-store.js'

export const SESSION_COOKIE = 'tms.sid'

export interface SessionsOptions {
  redis: Redis
  keyspace: Keyspace
  /** The first signs new cookies; all of them verify, so secrets rotate without logging anyone out. */
  secrets: string[]
  ttlSeconds: number
  /**
   * 'memory': @fastify/session's own in-process store, for the rehearsal's demonstration of
   * what a deploy does to sessions kept in each process (TMS_DEMO_IN_PROCESS_STATE). Default 'redis'.
   */
  store?: 'redis' | 'memory'
}

const needsResign = Symbol('needsResign')

declare module 'fastify' {
  interface Session {
    user?: { id: string; email: string; roles: import('@tms/warehouse').Role[] }
    packingStation?: string
    labelPrinter?: string
  }
  interface FastifyRequest {
    [needsResign]?: boolean
  }
}

/**
 * Sessions in Redis, shared by every instance. The cookie is HttpOnly and SameSite=Lax, and
 * Secure whenever the request arrived over TLS (through a trusted proxy's X-Forwarded-Proto).
 * No expiry on the cookie: the server-side TTL slides with every request and is the real bound.
 */
export const sessions = fp<SessionsOptions>(
  async (app: FastifyInstance, options) => {
    const signer = new CachingSigner(options.secrets)
    const redisStore = new RedisSessionStore({
      redis: options.redis,
      keyspace: options.keyspace,
      ttlSeconds: options.ttlSeconds,
      logger: app.log,
    })
    const store: SessionStore = options.store === 'memory' ? new fastifySession.MemoryStore() : redisStore
    await app.register(fastifyCookie)
    await app.register(fastifySession, {
      secret: signer,
      cookieName: SESSION_COOKIE,
      store,
      // Never write a session nobody logged into, and never rewrite one that did not change.
      saveUninitialized: false,
      rolling: false,
      cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' },
    })

    // Callback-style hooks: no promise per request on the hottest path of the API.
    app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
      const cookie = request.cookies[SESSION_COOKIE]
      const session = request.session
      if (cookie && session?.sessionId) {
        if (session.encryptedSessionId === cookie) {
          redisStore.rememberLoaded(session)
        } else {
          // Signed with an older secret (rotation): still valid; re-sign it with the current one below.
          const unsigned = signer.unsign(cookie)
          if (unsigned.valid && unsigned.value === session.sessionId) {
            redisStore.rememberLoaded(session)
            request[needsResign] = true
          }
        }
      }
      done()
    })

    app.addHook(
      'onSend',
      (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (e: null, p: unknown) => void) => {
        if (!request[needsResign] || !request.session) return done(null, payload)
        // @fastify/session clears a cookie whose signature differs from the current one; replace
        // that with the same session id signed by the current secret.
        const others = ([] as unknown[])
          .concat(reply.getHeader('set-cookie') ?? [])
          .map(String)
          .filter((c) => !c.startsWith(`${SESSION_COOKIE}=`))
        const resigned = app.serializeCookie(SESSION_COOKIE, request.session.encryptedSessionId, {
          path: '/',
          httpOnly: true,
          sameSite: 'lax',
          secure: request.protocol === 'https',
        })
        reply.removeHeader('set-cookie')
        reply.header('set-cookie', [...others, resigned])
        done(null, payload)
      },
    )

    app.decorate('issueSession', async (data: Pick<Session, 'user'>): Promise<IssuedSession> => {
      const id = randomBytes(24).toString('base64url')
      await new Promise<void>((resolve, reject) => store.set(id, data as Session, (error) => (error ? reject(error) : resolve())))
      return {
        cookie: `${SESSION_COOKIE}=${encodeURIComponent(signer.sign(id))}`,
        end: () => new Promise<void>((resolve, reject) => store.destroy(id, (error) => (error ? reject(error) : resolve()))),
      }
    })
  },
  { name: 'tms-sessions', fastify: '5.x' },
)

type SessionStore = fastifySession.SessionStore

/** A session made in-process, without a login: its Cookie header, and its end (deleted from the store). */
export interface IssuedSession {
  cookie: string
  end(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** For the instance's own requests only (the warm-up): a session for `user`, never sent to a client. */
    issueSession(data: Pick<Session, 'user'>): Promise<IssuedSession>
  }
}
