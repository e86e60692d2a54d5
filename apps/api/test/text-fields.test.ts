import t from 'tap'
import { buildTestApi } from './support.js'

interface Schema {
  type?: string | string[]
  format?: string
  pattern?: string
  enum?: unknown[]
  properties?: Record<string, Schema>
  items?: Schema
  oneOf?: Schema[]
}

/**
 * What a string a client sends may be: a pattern or an enum (ids, codes), a format that says
 * what it holds (uuid, email), text in one of the text formats (no control characters, no
 * unpaired surrogates), or a password (any characters: it is hashed, never stored or shown).
 */
const BOUNDED_FORMATS = new Set(['uuid', 'email', 'text-line', 'text-lines', 'password'])

function unguarded(schema: Schema | undefined, path: string): string[] {
  if (!schema) return []
  const types = ([] as string[]).concat(schema.type ?? [])
  const problems: string[] = []
  if (types.includes('string') && !schema.enum && !schema.pattern && !BOUNDED_FORMATS.has(schema.format ?? '')) {
    problems.push(path)
  }
  for (const [name, property] of Object.entries(schema.properties ?? {})) problems.push(...unguarded(property, `${path}.${name}`))
  problems.push(...unguarded(schema.items, `${path}[]`))
  for (const [i, branch] of (schema.oneOf ?? []).entries()) problems.push(...unguarded(branch, `${path}(${i})`))
  return problems
}

t.test('every string a client sends is an id, a code, or text that refuses control characters', async (t) => {
  const { app } = await buildTestApi(t)
  const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<{ in: string; name: string; schema: Schema }>
          requestBody?: { content?: Record<string, { schema: Schema }> }
        }
      >
    >
  }>()
  const problems: string[] = []
  let fields = 0
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const where = `${method.toUpperCase()} ${path}`
      for (const parameter of operation.parameters ?? []) {
        fields++
        problems.push(...unguarded(parameter.schema, `${where} ${parameter.in}.${parameter.name}`))
      }
      const body = operation.requestBody?.content?.['application/json']?.schema
      if (body) fields++
      problems.push(...unguarded(body, `${where} body`))
    }
  }
  t.ok(fields > 40, `${fields} parameters and bodies looked at`)
  t.same(problems, [], 'none takes any string at all')
})
