import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { Catalogue } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { authErrors } from './schemas.js'

export async function catalogueRoutes(parent: FastifyInstance, { catalogue }: { catalogue: Catalogue }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  app.get(
    '/catalogue/products',
    {
      onRequest: app.requireRole('agent'),
      schema: {
        tags: ['catalogue'],
        description: "The products shipments may contain, from this instance's memory cache.",
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    sku: { type: 'string' },
                    name: { type: 'string' },
                    edition: { type: 'string' },
                    modelNumber: { type: 'string' },
                  },
                  required: ['sku', 'name', 'edition'],
                  additionalProperties: false,
                },
              },
            },
          },
          ...authErrors,
        },
      },
    },
    async () => ({ items: await catalogue.products() }),
  )
}
