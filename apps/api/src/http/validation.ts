import { addTextFormats } from '@tms/warehouse'
import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifySchema } from 'fastify'

/**
 * `allErrors: false`: validation stops at the first problem. Listing every problem let a 60 KB
 * body of 20,000 empty items cost 0.3 s of CPU and a 3.8 MB answer; a client fixes one field at
 * a time at no real loss.
 */
const common: Options = { allErrors: false, useDefaults: true, strict: false }

/**
 * Bodies are validated strictly: no type coercion ("5" is not 5) and no silent removal of
 * unknown fields (Fastify's default strips them, so a typo would pass unnoticed). Query strings
 * and path parameters are text by nature and are coerced.
 */
export function useStrictValidation(app: FastifyInstance): void {
  const bodies = addFormats.default(new Ajv({ ...common, coerceTypes: false, removeAdditional: false }))
  const text = addFormats.default(new Ajv({ ...common, coerceTypes: 'array', removeAdditional: false }))
  addTextFormats(bodies)
  addTextFormats(text)
  app.setValidatorCompiler<FastifySchema>(({ schema, httpPart }) =>
    httpPart === 'body' ? bodies.compile(schema as object) : text.compile(schema as object),
  )
}
