import fc from 'fast-check'
import type { FuzzRequest, JsonSchema, Operation } from './openapi-requests.js'

/**
 * A value that passes `schema`: required fields always, optional ones now and then, nothing
 * else; strings from their pattern or format, within their lengths; a schema's `examples`
 * (values the domain knows, such as a model in the catalogue) preferred.
 */
export function validValue(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema) return fc.constant(null)
  if (schema.examples?.length) return fc.constantFrom(...schema.examples)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  if (schema.oneOf) return fc.oneof(...schema.oneOf.map((branch) => validValue(branch, depth)))
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'object': {
      const properties = schema.properties ?? {}
      const names = Object.keys(properties)
      if (names.length === 0) return fc.constant({})
      return fc
        .tuple(
          ...names.map((name) =>
            schema.required?.includes(name) || depth > 3
              ? validValue(properties[name], depth + 1).map((value) => ({ present: true, value }))
              : fc.record({ present: fc.boolean(), value: validValue(properties[name], depth + 1) }),
          ),
        )
        .map((fields) => {
          const object: Record<string, unknown> = {}
          names.forEach((name, i) => {
            const field = fields[i] as { present: boolean; value: unknown }
            if (field.present || schema.required?.includes(name)) object[name] = field.value
          })
          return object
        })
    }
    case 'array': {
      const minLength = schema.minItems ?? 0
      const maxLength = Math.min(schema.maxItems ?? 3, Math.max(minLength, 3))
      const items = validValue(schema.items, depth + 1)
      return schema.uniqueItems
        ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
        : fc.array(items, { minLength, maxLength })
    }
    case 'integer':
    case 'number':
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1000, (schema.minimum ?? 0) + 1000) })
    case 'boolean':
      return fc.boolean()
    case 'string': {
      const minLength = schema.minLength ?? 0
      const maxLength = Math.min(schema.maxLength ?? 30, minLength + 30)
      if (schema.format === 'uuid') return fc.uuid()
      if (schema.format === 'email') return fc.stringMatching(/^[a-z]{1,12}$/).map((name) => `${name}@fuzz.example`)
      if (schema.pattern) {
        return fc
          .stringMatching(new RegExp(schema.pattern))
          .filter((text) => text.length >= minLength && text.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY))
      }
      // Printable ASCII: text any field takes.
      return fc.string({ minLength, maxLength })
    }
    default:
      return fc.constant(null)
  }
}

/** What a text field must refuse: control characters (NUL, escape, DEL, a vertical tab) and halves of surrogate pairs. */
export const POISON = ['\u0000', '\u0001', '\u000b', '\u001b', '\u007f', '\ud800', '\udbff', '\udc00', '\udfff']

/** Paths of the string values in a value, e.g. `address.name`, `items.0.sku`. */
function stringLeaves(value: unknown, path: string[] = []): string[][] {
  if (typeof value === 'string') return [path]
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, [...path, String(i)]))
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, field]) => stringLeaves(field, [...path, key]))
  }
  return []
}

export interface PoisonedRequest extends FuzzRequest {
  operation: Operation
  /** The field holding the poison, e.g. `address.name`; null when the body has no string. */
  field: string | null
}

/**
 * An otherwise valid request (path parameters, body) with one character no text may hold put
 * into one string field of its body, somewhere in it.
 */
export function poisonedRequestFor(operations: Operation[], headers: Record<string, string>): fc.Arbitrary<PoisonedRequest> {
  const withBody = operations.filter((op) => op.body !== undefined)
  return fc.constantFrom(...withBody).chain((operation) =>
    fc
      .tuple(
        fc.tuple(...operation.pathParams.map((name) => validValue(operation.pathSchemas[name]))),
        validValue(operation.body),
        fc.nat(),
        fc.constantFrom(...POISON),
        fc.nat(),
      )
      .map(([params, body, pick, poison, at]) => {
        let url = operation.path
        operation.pathParams.forEach((name, i) => {
          url = url.replace(`{${name}}`, encodeURIComponent(String(params[i])))
        })
        const leaves = stringLeaves(body)
        let field: string | null = null
        if (leaves.length > 0) {
          const path = leaves[pick % leaves.length]!
          field = path.join('.')
          let parent = body as Record<string, unknown>
          for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>
          const last = path.at(-1)!
          const text = parent[last] as string
          const position = at % (text.length + 1)
          parent[last] = text.slice(0, position) + poison + text.slice(position)
        }
        return {
          operation,
          field,
          method: operation.method,
          url,
          headers: { ...headers, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        }
      }),
  )
}
