import type { Logger } from '@tms/logging'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { WARM_UP_HEADER, WARM_UP_MARK } from '../http/warm-up-mark.js'

/**
 * One line per request, after the response, with status and duration (Fastify's default logs
 * two). Written through the root logger with the request id, so a request that logs nothing
 * else never creates its child logger.
 */
export const requestLog = fp(
  async (app: FastifyInstance) => {
    // Registered only when info lines are written at all: no per-request cost otherwise.
    const log = app.log as Logger
    if (!log.isLevelEnabled('info')) return
    app.addHook('onResponse', (request, reply, done) => {
      const line = {
        reqId: request.id,
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        principal: request.principal?.id,
      }
      if (request.headers[WARM_UP_HEADER] === WARM_UP_MARK) log.debug(line, 'request')
      else log.info(line, 'request')
      done()
    })
  },
  { name: 'tms-request-log', fastify: '5.x' },
)
