import { healthPlugin, type Lifecycle, type ReadinessCheck } from '@tms/lifecycle'
import type { Logger } from '@tms/logging'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'

/** /health/live and /health/ready for the orchestrator; the worker serves nothing else. */
export async function buildHealthServer(options: {
  lifecycle: Lifecycle
  logger: Logger
  checks: Record<string, ReadinessCheck>
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
  })
  await app.register(healthPlugin, { lifecycle: options.lifecycle, checks: options.checks })
  return app
}
