import fastifySwagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** The contract, generated from the routes' own JSON schemas and served at /docs/json. */
export const openapi = fp<{ version: string }>(
  async (app: FastifyInstance, { version }) => {
    await app.register(fastifySwagger, {
      openapi: {
        info: { title: 'TMS API', description: 'Warehouse and manufacturing service', version },
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: 'tms.sid' },
            token: { type: 'http', scheme: 'bearer' },
          },
        },
      },
    })
    app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger())
  },
  { name: 'tms-openapi', fastify: '5.x' },
)
