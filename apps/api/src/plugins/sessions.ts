import { createHash, randomBytes } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import type { Keyspace } from '@tms/redis'
import type { FastifyInstance, FastifyReply, FastifyRequest, Session } from 'fastify'
import fp from 'fastify-plugin'
import { CachingSigner } from '../sessions/cookie-signer.js'
import { RedisSessionStore } from '../sessions/redis-session-store.js'

export const SESSION_COOKIE = 'tms.sid'

export interface SessionsOptions {
  keyspace: Keyspace
  /** The first signs new cookies; all of them verify, so secrets rotate without logging anyone out. */
  secrets: string[]
  ttlSeconds: number
  /** The absolute lifetime: past it a session ends however active it is. */
  maxAgeSeconds: number
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
    /** When the user logged in (ms): the absolute lifetime counts from here. */
    startedAt?: number
    /** Where the login came from, for the user's list of their sessions. */
    client?: { ip: string; userAgent: string }
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
      redis: app.redis,
      keyspace: options.keyspace,
      ttlSeconds: options.ttlSeconds,
      maxAgeSeconds: options.maxAgeSeconds,
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
      const session = { ...data, startedAt: Date.now() } as Session
      await new Promise<void>((resolve, reject) => store.set(id, session, (error) => (error ? reject(error) : resolve())))
      return {
        cookie: `${SESSION_COOKIE}=${encodeURIComponent(signer.sign(id))}`,
        end: async () => {
          await new Promise<void>((resolve, reject) => store.destroy(id, (error) => (error ? reject(error) : resolve())))
          if (data.user && options.store !== 'memory') await redisStore.endSessionsOf(data.user.id)
        },
      }
    })

    // A user's sessions, by a handle that is not the session id (which would let its reader
    // use the session): what the user lists, and ends.
    const handleOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('base64url').slice(0, 22)
    const inMemory = options.store === 'memory'
    app.decorate('userSessions', {
      async list(userId: string, currentSessionId?: string) {
        if (inMemory) return []
        return (await redisStore.sessionsOf(userId)).map((s) => ({
          id: handleOf(s.sessionId),
          startedAt: s.startedAt === null ? null : new Date(s.startedAt).toISOString(),
          client: (s.client as { ip: string; userAgent: string } | null) ?? null,
          current: s.sessionId === currentSessionId,
        }))
      },
      async end(userId: string, handle: string) {
        if (inMemory) return false
        const session = (await redisStore.sessionsOf(userId)).find((s) => handleOf(s.sessionId) === handle)
        return session ? redisStore.endSessionOf(userId, session.sessionId) : false
      },
      async endAll(userId: string) {
        return inMemory ? 0 : redisStore.endSessionsOf(userId)
      },
    } satisfies UserSessions)
  },
  { name: 'tms-sessions', fastify: '5.x', dependencies: ['@fastify/redis'] },
)

type SessionStore = fastifySession.SessionStore

/** A user's sessions, by handle: list them, end one, end all (every instance, at once). */
export interface UserSessions {
  list(
    userId: string,
    currentSessionId?: string,
  ): Promise<Array<{ id: string; startedAt: string | null; client: { ip: string; userAgent: string } | null; current: boolean }>>
  end(userId: string, handle: string): Promise<boolean>
  endAll(userId: string): Promise<number>
}

/** A session made in-process, without a login: its Cookie header, and its end (deleted from the store). */
export interface IssuedSession {
  cookie: string
  end(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** For the instance's own requests only (the warm-up): a session for `user`, never sent to a client. */
    issueSession(data: Pick<Session, 'user'>): Promise<IssuedSession>
    userSessions: UserSessions
  }
}
