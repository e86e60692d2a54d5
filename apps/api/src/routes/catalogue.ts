import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { Catalogue } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { authErrors, listOf } from './schemas.js'

const productView = {
  type: 'object',
  properties: {
    sku: { type: 'string' },
    name: { type: 'string' },
    edition: { type: 'string' },
    modelNumber: { type: 'string' },
  },
  required: ['sku', 'name', 'edition'],
  additionalProperties: false,
} as const

export async function catalogueRoutes(parent: FastifyInstance, { catalogue }: { catalogue: Catalogue }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  app.get(
    '/catalogue/products',
    {
      onRequest: app.requireRole('agent'),
      schema: {
        tags: ['catalogue'],
        description: "The products shipments may contain, from this instance's memory cache.",
        response: { 200: listOf(productView), ...authErrors },
      },
    },
    async () => ({ items: await catalogue.products() }),
  )
}
