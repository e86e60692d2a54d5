import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** One line per request, after the response, with status and duration (Fastify's default logs two). */
export const requestLog = fp(
  async (app: FastifyInstance) => {
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        {
          method: request.method,
          url: request.url,
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          principal: request.principal?.id,
        },
        'request',
      )
    })
  },
  { name: 'tms-request-log', fastify: '5.x' },
)
