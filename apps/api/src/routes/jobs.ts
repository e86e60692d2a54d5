import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { JobsAdmin } from '@tms/jobs'
import type { FastifyInstance } from 'fastify'
import { authErrors, errorBody, listOf } from './schemas.js'

const scheduleParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' } },
  required: ['id'],
  additionalProperties: false,
} as const

const jobId = {
  type: 'object',
  properties: { jobId: { type: 'string' } },
  required: ['jobId'],
  additionalProperties: false,
} as const

const runView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    scheduleId: { type: 'string' },
    jobId: { type: 'string' },
    tick: { type: ['string', 'null'] },
    trigger: { type: 'string' },
    attempt: { type: 'integer' },
    instance: { type: 'string' },
    version: { type: 'string' },
    startedAt: { type: 'string' },
    endedAt: { type: ['string', 'null'] },
    durationMs: { type: ['integer', 'null'] },
    outcome: { type: 'string' },
    error: { type: ['string', 'null'] },
    result: { type: ['object', 'null'], additionalProperties: true },
  },
  required: [
    'id',
    'scheduleId',
    'jobId',
    'tick',
    'trigger',
    'attempt',
    'instance',
    'version',
    'startedAt',
    'endedAt',
    'durationMs',
    'outcome',
    'error',
    'result',
  ],
  additionalProperties: false,
} as const

/** A schedule as operators see it. */
const scheduleView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    every: { type: ['integer', 'null'] },
    pattern: { type: ['string', 'null'] },
    tz: { type: ['string', 'null'] },
    maxRunTimeMs: { type: 'integer' },
    paused: { type: 'boolean' },
    nextRunAt: { type: ['string', 'null'] },
    running: {
      type: ['object', 'null'],
      properties: { instance: { type: 'string' }, startedAt: { type: 'string' }, jobId: { type: 'string' } },
      required: ['instance', 'startedAt', 'jobId'],
      additionalProperties: false,
    },
    lastRun: {
      type: ['object', 'null'],
      properties: {
        startedAt: { type: 'string' },
        endedAt: { type: ['string', 'null'] },
        durationMs: { type: ['integer', 'null'] },
        outcome: { type: 'string' },
        instance: { type: 'string' },
        error: { type: ['string', 'null'] },
        tick: { type: ['string', 'null'] },
      },
      required: ['startedAt', 'endedAt', 'durationMs', 'outcome', 'instance', 'error', 'tick'],
      additionalProperties: false,
    },
    version: { type: 'integer' },
  },
  required: ['id', 'every', 'pattern', 'tz', 'maxRunTimeMs', 'paused', 'nextRunAt', 'running', 'lastRun', 'version'],
  additionalProperties: false,
} as const

/**
 * Operators watch and steer the job runner: schedules, recent runs, pause, resume, run now.
 * For operators only: app.ts registers it behind their role check.
 */
export async function jobRoutes(parent: FastifyInstance, { jobs }: { jobs: JobsAdmin }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  app.get(
    '/admin/jobs',
    {
      schema: {
        tags: ['jobs'],
        description: 'Each schedule: its interval, paused or not, next run, the run in progress, the last run.',
        response: {
          200: listOf(scheduleView),
          ...authErrors,
        },
      },
    },
    async () => ({ items: await jobs.list() }),
  )

  app.get(
    '/admin/jobs/:id/runs',
    {
      schema: {
        tags: ['jobs'],
        params: scheduleParams,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 20 } },
          additionalProperties: false,
        },
        response: {
          200: listOf(runView),
          ...authErrors,
          404: errorBody,
        },
      },
    },
    async (request) => ({ items: await jobs.recentRuns(request.params.id, request.query.limit) }),
  )

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/admin/jobs/:id/${action}`,
      {
        schema: { tags: ['jobs'], params: scheduleParams, response: { 204: { type: 'null' }, ...authErrors, 404: errorBody } },
      },
      async (request, reply) => {
        await jobs[action](request.params.id)
        return reply.code(204).send(null)
      },
    )
  }

  app.post(
    '/admin/jobs/:id/run',
    {
      schema: {
        tags: ['jobs'],
        description: 'Runs the job now on exactly one worker; while one such run waits or runs, the same job id is returned.',
        params: scheduleParams,
        response: { 202: jobId, ...authErrors, 404: errorBody },
      },
    },
    async (request, reply) => reply.code(202).send(await jobs.runNow(request.params.id)),
  )
}
