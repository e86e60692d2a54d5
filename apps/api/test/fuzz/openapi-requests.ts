import fc from 'fast-check'

/**
 * Hostile requests for every operation of the API's own OpenAPI document: close-to-valid
 * values from each schema, wrong types, huge and deep values, unicode, prototype keys,
 * duplicate keys, bodies that are no JSON, wrong content types.
 */

export interface Operation {
  method: string
  /** OpenAPI path, e.g. `/shipments/{id}/claim`. */
  path: string
  pathParams: string[]
  /** Each path parameter's schema, by name. */
  pathSchemas: Record<string, JsonSchema>
  query: Record<string, JsonSchema>
  body: JsonSchema | undefined
}

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  enum?: unknown[]
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
  oneOf?: JsonSchema[]
  /** Values known to be good (a model the catalogue has): the valid generator prefers them. */
  examples?: unknown[]
}

export interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  /** Sent as is. */
  payload?: string
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>
}
interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string; schema: JsonSchema }>
  requestBody?: { content?: Record<string, { schema: JsonSchema }> }
}

/** Every operation of the document, with what it takes. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      pathSchemas: Object.fromEntries((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, p.schema])),
      query: Object.fromEntries((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.schema])),
      body: op.requestBody?.content?.['application/json']?.schema,
    })),
  )
}

/** Strings an attacker tries first. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '__proto__',
  'constructor',
  "' OR '1'='1",
  '"; DROP TABLE shipments;--',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\uFEFF',
  '\uD800',
  '😀'.repeat(50),
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the log4j probe, sent as a plain string on purpose
  '${jndi:ldap://x}',
  '{{7*7}}',
  'a'.repeat(300),
  'x'.repeat(5000),
  '00000000-0000-4000-8000-000000000001',
  'NaN',
  '-1',
  '1e309',
]

const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
)

/** Any JSON, prototype keys included, nested deeper than any schema here. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, [], {}),
  hostileString,
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'admin'), fc.jsonValue({ maxDepth: 2 })),
  fc.integer({ min: 50, max: 2000 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth))),
)

/** A value for `schema`: usually one that fits or nearly fits, sometimes anything at all. */
export function valueFor(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return hostileJson
  return fc.oneof({ weight: 4, arbitrary: fitting(schema, depth) }, { weight: 1, arbitrary: hostileJson })
}

function fitting(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum)
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'object': {
      const properties = schema.properties ?? {}
      const names = Object.keys(properties)
      if (names.length === 0) return fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
      // Each field present or not (required ones mostly present), and now and then one nobody asked for.
      return fc
        .tuple(
          fc.tuple(
            ...names.map((name) =>
              fc.option(valueFor(properties[name], depth + 1), { freq: schema.required?.includes(name) ? 8 : 2 }),
            ),
          ),
          fc.option(fc.tuple(hostileString, hostileJson), { freq: 5 }),
        )
        .map(([values, extra]) => {
          const object: Record<string, unknown> = {}
          names.forEach((name, i) => {
            if (values[i] !== null) object[name] = values[i]
          })
          if (extra) object[extra[0]] = extra[1]
          return object
        })
    }
    case 'array':
      return fc.oneof(
        fc.array(valueFor(schema.items, depth + 1), { maxLength: 4 }),
        // Past any maxItems, still under the body limit.
        fc.integer({ min: (schema.maxItems ?? 10) + 1, max: 3000 }).map((n) => Array.from({ length: n }, () => ({}))),
      )
    case 'integer':
    case 'number':
      return fc.oneof(
        fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 1000, 1000) }),
        fc.constantFrom(-1, 0, 1.5, 2 ** 31, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
        fc.integer().map(String),
      )
    case 'boolean':
      return fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1))
    case 'string':
      if (schema.format === 'uuid') return fc.oneof(fc.uuid(), hostileString)
      if (schema.format === 'email') return fc.oneof(fc.emailAddress(), hostileString)
      return fc.oneof(fc.string({ minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? 30 }), hostileString)
    default:
      return hostileJson
  }
}

/** A path parameter as it would appear in a URL: valid-looking, hostile, or encoded garbage. */
const pathParam = fc.oneof(
  { weight: 4, arbitrary: fc.uuid() },
  { weight: 4, arbitrary: fc.constantFrom('00000000-0000-4000-8000-000000000001', 'sync-orders', 'housekeeping', 'no-such-job') },
  // Every byte percent-encoded: lone surrogates included, which encodeURIComponent refuses.
  { weight: 4, arbitrary: hostileString.map((s) => Buffer.from(s, 'utf8').toString('hex').replace(/../g, '%$&') || 'x') },
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }).map((s) => s.replace(/[/?#]/g, '') || 'y') },
  // Past the router's parameter limit: its own answer once echoed the whole path.
  { weight: 1, arbitrary: fc.constant('p'.repeat(20_000)) },
)

/** Lone surrogates replaced (URLSearchParams cannot encode them; the path's own encoding sends them). */
const wellFormed = (text: string) =>
  text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')

/** Query strings from the declared parameters, with wrong values and extra keys. */
function queryFor(query: Record<string, JsonSchema>): fc.Arbitrary<string> {
  const names = Object.keys(query)
  return fc
    .tuple(
      fc.tuple(...names.map((name) => fc.option(valueFor(query[name]), { freq: 2 }))),
      fc.option(fc.tuple(hostileString, hostileString), { freq: 4 }),
      fc.boolean(),
    )
    .map(([values, extra, repeat]) => {
      const params = new URLSearchParams()
      names.forEach((name, i) => {
        if (values[i] === null) return
        const value = typeof values[i] === 'string' ? (values[i] as string) : JSON.stringify(values[i])
        params.append(name, wellFormed(value))
        if (repeat) params.append(name, wellFormed(value))
      })
      if (extra) params.append(wellFormed(extra[0]), wellFormed(extra[1]))
      const text = params.toString()
      return text ? `?${text}` : ''
    })
}

/** What is sent as the body: JSON of a value, duplicate keys, no JSON, wrong content types. */
function bodyFor(schema: JsonSchema | undefined): fc.Arbitrary<{ payload?: string; contentType?: string }> {
  const json = (value: unknown) => {
    try {
      return JSON.stringify(value) ?? 'null'
    } catch {
      return 'null'
    }
  }
  return fc.oneof(
    { weight: 6, arbitrary: valueFor(schema).map((value) => ({ payload: json(value), contentType: 'application/json' })) },
    {
      weight: 1,
      arbitrary: valueFor(schema).map((value) => {
        // A duplicate key: the last one wins in JSON.parse; it must still validate as a whole.
        const text = json(value)
        return { payload: text.startsWith('{"') ? `{"roles":["admin"],${text.slice(1)}` : text, contentType: 'application/json' }
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { payload: '{"unterminated": ', contentType: 'application/json' },
        { payload: '', contentType: 'application/json' },
        { payload: 'email=a&password=b', contentType: 'application/x-www-form-urlencoded' },
        { payload: 'plain', contentType: 'text/plain' },
        { payload: '<xml/>', contentType: 'application/xml' },
        { payload: '{}', contentType: 'application/json; charset=utf-16' },
        { payload: '{}', contentType: 'multipart/form-data; boundary=x' },
        {},
      ),
    },
  )
}

export interface Caller {
  name: string
  headers: Record<string, string>
}

/** One request: a caller, an operation, its path, query and body. */
export function requestFor(
  operations: Operation[],
  callers: Caller[],
): fc.Arbitrary<FuzzRequest & { operation: Operation; caller: string }> {
  return fc.tuple(fc.constantFrom(...operations), fc.constantFrom(...callers)).chain(([operation, caller]) =>
    fc
      .tuple(
        fc.tuple(...operation.pathParams.map(() => pathParam)),
        queryFor(operation.query),
        operation.method === 'GET' || operation.method === 'DELETE'
          ? fc.constant<{ payload?: string; contentType?: string }>({})
          : bodyFor(operation.body),
      )
      .map(([params, query, body]) => {
        let url = operation.path
        operation.pathParams.forEach((name, i) => {
          url = url.replace(`{${name}}`, params[i]!)
        })
        return {
          operation,
          caller: caller.name,
          method: operation.method,
          url: url + query,
          headers: { ...caller.headers, ...(body.contentType ? { 'content-type': body.contentType } : {}) },
          ...(body.payload !== undefined ? { payload: body.payload } : {}),
        }
      }),
  )
}
