import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Every response says which version and instance served it: the rehearsal and operators read these. */
export const responseHeaders = fp<{ version: string; instanceId: string }>(
  async (app: FastifyInstance, { version, instanceId }) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('x-app-version', version)
      reply.header('x-instance-id', instanceId)
      done()
    })
  },
  { name: 'tms-response-headers', fastify: '5.x' },
)
