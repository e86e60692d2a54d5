import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { Service } from 'kubernetes-models/v1'
import { parseAllDocuments } from 'yaml'
import { DEPLOY, type Doc } from './manifests.js'

/** The overlays under deploy/k8s/overlays: one per environment. */
export const OVERLAYS = ['staging', 'production'] as const

/** An overlay as the cluster would receive it: `kubectl kustomize`, offline. */
export function render(overlay: string): Doc[] {
  const yaml = execFileSync('kubectl', ['kustomize', `${DEPLOY}k8s/overlays/${overlay}`], { encoding: 'utf8' })
  return parseAllDocuments(yaml).map((d) => d.toJS())
}

/** The kubernetes-models type of each kind TMS uses: [module, interface]. */
const TYPES: Record<string, readonly [string, string]> = {
  'apps/v1 Deployment': ['kubernetes-models/apps/v1', 'IDeployment'],
  'v1 Service': ['kubernetes-models/v1', 'IService'],
  'networking.k8s.io/v1 Ingress': ['kubernetes-models/networking.k8s.io/v1', 'IIngress'],
  'policy/v1 PodDisruptionBudget': ['kubernetes-models/policy/v1', 'IPodDisruptionBudget'],
  'autoscaling/v2 HorizontalPodAutoscaler': ['kubernetes-models/autoscaling/v2', 'IHorizontalPodAutoscaler'],
}

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')

/**
 * Fields the Kubernetes API does not know. Its OpenAPI schemas (and so the models' validate())
 * allow any other property; the API server refuses them only under strict field validation, and
 * a misspelled `terminationGracePeriodSecond` would otherwise be dropped in silence. The models'
 * TypeScript interfaces are generated from the same schemas with exact properties, so each
 * document is type-checked as an object literal of its kind: tsc names every unknown field.
 */
export function unknownFields(docs: Doc[]): string[] {
  const dir = mkdtempSync(join(DEPLOY, '.fields-'))
  try {
    const lines: string[] = []
    docs.forEach((doc, index) => {
      const [module, type] = TYPES[`${doc.apiVersion} ${doc.kind}`] ?? []
      if (!module) return
      lines.push(`import type { ${type} as T${index} } from '${module}'`)
      lines.push(`export const doc${index}: T${index} = ${JSON.stringify(doc)}`)
    })
    writeFileSync(join(dir, 'documents.ts'), `${lines.join('\n')}\n`)
    const options = ['--strict', '--noEmit', '--skipLibCheck', '--module', 'nodenext', '--target', 'es2022', '--types', 'node']
    const result = spawnSync(process.execPath, [TSC, ...options, join(dir, 'documents.ts')], { encoding: 'utf8', cwd: DEPLOY })
    return `${result.stdout}${result.stderr}`
      .split('\n')
      .filter((line) => line.includes('error TS'))
      .map((line) => line.replace(/^.*documents\.ts/, 'documents'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The models of the kinds TMS uses, from the Kubernetes API's own OpenAPI schemas (kubernetes-models). */
const MODELS: Record<string, new (data: Doc) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'networking.k8s.io/v1 Ingress': Ingress,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
}

/** What the Kubernetes API's schema finds wrong with a document, in words; empty when it is valid. */
export function schemaProblems(doc: Doc): string[] {
  const Model = MODELS[`${doc.apiVersion} ${doc.kind}`]
  if (!Model) return [`${doc.apiVersion} ${doc.kind} is not a kind TMS deploys`]
  try {
    new Model(doc).validate()
    return []
  } catch (error) {
    return [`${doc.kind} ${doc.metadata?.name}: ${(error as Error).message}`]
  }
}

/** The documents of one app (the API's or the worker's), as the zero-downtime rules read them. */
export const appDocs = (docs: Doc[], app: 'api' | 'worker') => docs.filter((d) => d.metadata?.name === `tms-${app}`)
