import { createHash } from 'node:crypto'
import { REQUEST_TIMEOUT_MS } from '@tms/lifecycle'
import type { Keyspace } from '@tms/redis'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { ApiError } from '../http/api-errors.js'

/** The request header a client sets to make a write safe to retry (one new key per user action). */
export const IDEMPOTENCY_HEADER = 'idempotency-key'
/** Set on an answer that was stored for an earlier request with the same key. */
export const REPLAYED_HEADER = 'idempotent-replayed'

const KEY = /^[A-Za-z0-9_-]{8,64}$/
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/**
 * How long a key stays "in progress" when its instance dies before answering: then a retry may
 * do the write again. Above the request timeout, so a slow first request is never done twice.
 */
const IN_PROGRESS_MS = REQUEST_TIMEOUT_MS * 2
/** Only answers of this size are stored: every answer of this API is far smaller (bodyLimit-sized lists aside). */
const MAX_STORED_BYTES = 256 * 1024

type Entry =
  | { state: 'in-progress'; fingerprint: string }
  | { state: 'done'; fingerprint: string; status: number; contentType: string | null; body: string }

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { key: string; fingerprint: string } | null
  }
  interface FastifyContextConfig {
    /** The answer carries a secret shown once (a new API token): it is never stored, the key is ignored. */
    answerHoldsSecret?: boolean
  }
}

/**
 * `Idempotency-Key` on writes (POST, PUT, PATCH, DELETE) of a known caller: the first request
 * with a key does the write and its answer is stored in Redis for IDEMPOTENCY_TTL_SECONDS, per
 * user; a repeat of the key gets that answer again, from whichever instance it reaches, and the
 * write is not done twice. The same key with another method, path or body is a 422. A repeat
 * while the first is still running is a 409 with `retry-after`. An answer of 5xx is not stored
 * (the write did not happen or may be retried), so its retry does the write.
 *
 * Runs as a preHandler: after `requireRole` (onRequest) knows who is calling and after the body
 * was validated, so an unknown caller or a malformed body never reaches Redis.
 */
export const idempotency = fp<{ redis: Redis; keyspace: Keyspace; ttlSeconds: number }>(
  async (app: FastifyInstance, { redis, keyspace, ttlSeconds }) => {
    app.decorateRequest('idempotency', null)

    app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers[IDEMPOTENCY_HEADER]
      if (header === undefined || !request.principal || !WRITES.has(request.method)) return
      if (request.routeOptions.config.answerHoldsSecret) return
      if (typeof header !== 'string' || !KEY.test(header)) {
        throw new ApiError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key: 8 to 64 letters, digits, - or _')
      }
      const key = keyspace.key(request.principal.id, header)
      const fingerprint = createHash('sha256')
        .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
        .digest('base64url')
      const claimed = await redis.set(key, JSON.stringify({ state: 'in-progress', fingerprint }), 'PX', IN_PROGRESS_MS, 'NX')
      if (claimed === 'OK') {
        request.idempotency = { key, fingerprint }
        return
      }
      const stored = await redis.get(key)
      const entry = stored ? (JSON.parse(stored) as Entry) : null
      if (!entry) {
        // Expired between the two commands: rare enough to ask the client to try again.
        throw new ApiError('IDEMPOTENCY_KEY_IN_PROGRESS', 'this key was just released; send the request again', {
          'retry-after': '1',
        })
      }
      if (entry.fingerprint !== fingerprint) {
        throw new ApiError(
          'IDEMPOTENCY_KEY_REUSED',
          'Idempotency-Key was used for a different request (method, path or body); use a new key for a new action',
        )
      }
      if (entry.state === 'in-progress') {
        throw new ApiError('IDEMPOTENCY_KEY_IN_PROGRESS', 'the first request with this key is still being answered', {
          'retry-after': '1',
        })
      }
      reply.code(entry.status).header(REPLAYED_HEADER, 'true')
      if (entry.contentType) reply.header('content-type', entry.contentType)
      return reply.send(entry.body === '' ? null : entry.body)
    })

    app.addHook('onSend', async (request, reply, payload) => {
      const pending = request.idempotency
      if (!pending) return payload
      request.idempotency = null
      try {
        if (reply.statusCode >= 500 || !(payload === null || typeof payload === 'string' || Buffer.isBuffer(payload))) {
          await redis.del(pending.key)
          return payload
        }
        const body = payload === null ? '' : payload.toString()
        if (body.length > MAX_STORED_BYTES) {
          await redis.del(pending.key)
          return payload
        }
        const contentType = reply.getHeader('content-type')
        const entry: Entry = {
          state: 'done',
          fingerprint: pending.fingerprint,
          status: reply.statusCode,
          contentType: typeof contentType === 'string' ? contentType : null,
          body,
        }
        await redis.set(pending.key, JSON.stringify(entry), 'EX', ttlSeconds)
      } catch (error) {
        // The write happened and is answered; a retry finds the key in progress until it expires.
        request.log.warn({ err: (error as Error).message }, 'could not store the answer for its Idempotency-Key')
      }
      return payload
    })
  },
  { name: 'tms-idempotency', fastify: '5.x', dependencies: ['tms-authentication'] },
)
