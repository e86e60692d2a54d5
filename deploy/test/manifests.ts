import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'

export const DEPLOY = fileURLToPath(new URL('../', import.meta.url))
const REPO = fileURLToPath(new URL('../../', import.meta.url))

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form documents, checked field by field
export type Doc = any

/** Every document of a Kubernetes YAML file; a YAML error fails loudly. */
export function readYaml(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(`${DEPLOY}${file}`, 'utf8'))
  for (const doc of docs) if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`)
  return docs.map((d) => d.toJS()).filter(Boolean)
}

export function readJson(file: string): Doc {
  return JSON.parse(readFileSync(`${DEPLOY}${file}`, 'utf8'))
}

/**
 * The longest request the API lets run (Fastify's requestTimeout in apps/api/src/app.ts). Read
 * from the source, so raising it there makes these rules ask for longer grace periods here.
 */
export function longestRequestMs(): number {
  const source = readFileSync(`${REPO}apps/api/src/app.ts`, 'utf8')
  const match = /requestTimeout:\s*([\d_]+)/.exec(source)
  if (!match) throw new Error('requestTimeout not found in apps/api/src/app.ts')
  return Number(match[1]!.replaceAll('_', ''))
}

/** A deep copy to break on purpose. */
export const clone = <T>(value: T): T => structuredClone(value)
