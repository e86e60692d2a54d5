import type { Caches } from '@tms/cache'
import type { FastifyInstance } from 'fastify'
import { authErrors } from './schemas.js'

export async function adminRoutes(app: FastifyInstance, { caches }: { caches: Caches }) {
  app.get(
    '/admin/cache',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['admin'],
        description: "This instance's cache counters since it started: hits, misses, loads, remote errors, fallbacks.",
        response: {
          200: {
            type: 'object',
            properties: {
              hits: { type: 'integer' },
              misses: { type: 'integer' },
              loads: { type: 'integer' },
              remoteErrors: { type: 'integer' },
              fallbacks: { type: 'integer' },
            },
          },
          ...authErrors,
        },
      },
    },
    async () => caches.stats,
  )
}
