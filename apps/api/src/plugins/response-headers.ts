import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** What an upstream request id may look like: it is written into log lines, so nothing else. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/
let counter = 0

/** Fastify's genReqId: the load balancer's `x-request-id` when it is well formed, else our own. */
export function requestIdOf(request: IncomingMessage): string {
  const upstream = request.headers['x-request-id']
  if (typeof upstream === 'string' && REQUEST_ID.test(upstream)) return upstream
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `req-${counter.toString(36)}`
}

/**
 * Every response says which version and instance served it (the rehearsal and operators read
 * these) and its request id, which a person reporting a problem can quote.
 */
export const responseHeaders = fp<{ version: string; instanceId: string }>(
  async (app: FastifyInstance, { version, instanceId }) => {
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-app-version', version)
      reply.header('x-instance-id', instanceId)
      reply.header('x-request-id', request.id)
      done()
    })
  },
  { name: 'tms-response-headers', fastify: '5.x' },
)
