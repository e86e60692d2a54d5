import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifySchema } from 'fastify'

const common: Options = { allErrors: true, useDefaults: true, strict: false }

/**
 * Bodies are validated strictly: no type coercion ("5" is not 5) and no silent removal of
 * unknown fields (Fastify's default strips them, so a typo would pass unnoticed). Query strings
 * and path parameters are text by nature and are coerced.
 */
export function useStrictValidation(app: FastifyInstance): void {
  const bodies = addFormats.default(new Ajv({ ...common, coerceTypes: false, removeAdditional: false }))
  const text = addFormats.default(new Ajv({ ...common, coerceTypes: 'array', removeAdditional: false }))
  app.setValidatorCompiler<FastifySchema>(({ schema, httpPart }) =>
    httpPart === 'body' ? bodies.compile(schema as object) : text.compile(schema as object),
  )
}
