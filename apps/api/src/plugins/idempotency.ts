import { createHash } from 'node:crypto'
import { REQUEST_TIMEOUT_MS } from '@tms/lifecycle'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../http/api-errors.js'
import { type AnswerLimits, type Done, type IdempotencyStore, replayBody } from '../http/idempotency-store.js'

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
export const IN_PROGRESS_MS = REQUEST_TIMEOUT_MS * 2

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { principal: string; key: string; fingerprint: string } | null
  }
  interface FastifyContextConfig {
    /** The answer carries a secret shown once (a new API token): it is never stored, the key is ignored. */
    answerHoldsSecret?: boolean
  }
}

/** The limits of AnswerLimits a deployment sets (the in-progress time is the request timeout's). */
export type IdempotencyLimits = Omit<AnswerLimits, 'inProgressMs'>

/**
 * `Idempotency-Key` on writes (POST, PUT, PATCH, DELETE) of a known caller: the first request
 * with a key does the write and its answer is kept in Redis for the TTL, per principal; a repeat
 * of the key gets that answer again, from whichever instance it reaches, and the write is not
 * done twice. The same key with another method, path or body is a 422. A repeat while the first
 * is still running is a 409 with `retry-after`. An answer of 5xx is not kept (the write did not
 * happen or may be retried), so its retry does the write.
 *
 * What one principal keeps is bounded (IdempotencyStore: keys and bytes, its oldest answers go
 * first). Answers past 8 KB are kept deflated; past 32 KB deflated, only their status and digest:
 * a repeat of such a key is not done again, and answers 409 IDEMPOTENT_ANSWER_NOT_KEPT with the
 * first answer's status in `idempotent-original-status`.
 *
 * Runs as a preHandler: after `requireRole` (onRequest) knows who is calling and after the body
 * was validated, so an unknown caller or a malformed body never reaches Redis.
 */
export const idempotency = fp<{ store: IdempotencyStore }>(
  async (app: FastifyInstance, { store }) => {
    app.decorateRequest('idempotency', null)

    app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers[IDEMPOTENCY_HEADER]
      if (header === undefined || !request.principal || !WRITES.has(request.method)) return
      if (request.routeOptions.config.answerHoldsSecret) return
      if (typeof header !== 'string' || !KEY.test(header)) {
        throw new ApiError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key: 8 to 64 letters, digits, - or _')
      }
      const principal = request.principal.id
      const fingerprint = createHash('sha256')
        .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
        .digest('base64url')
      const claim = await store.claim(principal, header, fingerprint)
      if (claim.claimed) {
        request.idempotency = { principal, key: header, fingerprint }
        return
      }
      if ('full' in claim) {
        throw new ApiError('IDEMPOTENCY_KEYS_EXHAUSTED', 'too many writes of yours are in progress at once; try again shortly', {
          'retry-after': '1',
        })
      }
      const entry = claim.entry
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
      return replay(entry, reply)
    })

    app.addHook('onSend', async (request, reply, payload) => {
      const pending = request.idempotency
      if (!pending) return payload
      request.idempotency = null
      try {
        if (reply.statusCode >= 500 || !(payload === null || typeof payload === 'string' || Buffer.isBuffer(payload))) {
          await store.free(pending.principal, pending.key)
          return payload
        }
        const contentType = reply.getHeader('content-type')
        const stored = await store.store(pending.principal, pending.key, {
          fingerprint: pending.fingerprint,
          status: reply.statusCode,
          contentType: typeof contentType === 'string' ? contentType : null,
          body: payload === null ? '' : payload.toString(),
        })
        if (!stored) request.log.warn('the answer for its Idempotency-Key could not be kept: a retry does the write again')
      } catch (error) {
        // The write happened and is answered; a retry finds the key in progress until it expires.
        request.log.warn({ err: (error as Error).message }, 'could not store the answer for its Idempotency-Key')
      }
      return payload
    })
  },
  { name: 'tms-idempotency', fastify: '5.x', dependencies: ['tms-authentication'] },
)

function replay(entry: Done, reply: FastifyReply) {
  const body = replayBody(entry)
  if (body === null) {
    // Too large to keep: the write was done, and is not done again.
    throw new ApiError(
      'IDEMPOTENT_ANSWER_NOT_KEPT',
      `this request was done (status ${entry.status}); its answer (${entry.summary!.bytes} bytes) was too large to keep, so it is not repeated: read the result instead`,
      { [REPLAYED_HEADER]: 'true', 'idempotent-original-status': String(entry.status) },
    )
  }
  reply.header(REPLAYED_HEADER, 'true')
  reply.code(entry.status)
  if (entry.contentType) reply.header('content-type', entry.contentType)
  return reply.send(body === '' ? null : body)
}
