import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { Caches } from '@tms/cache'
import type { FastifyInstance } from 'fastify'
import { authErrors } from './schemas.js'

export async function adminRoutes(parent: FastifyInstance, { caches }: { caches: Caches }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
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
            required: ['hits', 'misses', 'loads', 'remoteErrors', 'fallbacks'],
            additionalProperties: false,
          },
          ...authErrors,
        },
      },
    },
    async () => caches.stats,
  )
}
