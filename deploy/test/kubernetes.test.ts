import t from 'tap'
import { appDocs, OVERLAYS, render, schemaProblems, unknownFields } from './kustomize.js'
import { clone, type Doc } from './manifests.js'
import { kubernetesPlatform } from './platform-rules.js'

const rendered = Object.fromEntries(OVERLAYS.map((overlay) => [overlay, render(overlay)]))

t.test("every rendered overlay is valid against the Kubernetes API's schemas", async (t) => {
  for (const [overlay, docs] of Object.entries(rendered)) {
    t.same(
      docs.map((d) => `${d.kind}/${d.metadata.name}`).sort(),
      [
        'Deployment/tms-api',
        'Deployment/tms-worker',
        'HorizontalPodAutoscaler/tms-api',
        'HorizontalPodAutoscaler/tms-worker',
        'Ingress/tms-api',
        'PodDisruptionBudget/tms-api',
        'PodDisruptionBudget/tms-worker',
        'Service/tms-api',
      ],
      `${overlay}: what it deploys`,
    )
    t.same(docs.flatMap(schemaProblems), [], `${overlay}: the schemas`)
    t.same(unknownFields(docs), [], `${overlay}: no field the API does not know`)
  }
})

t.test('every rendered overlay keeps the platform rules', async (t) => {
  for (const [overlay, docs] of Object.entries(rendered)) t.same(kubernetesPlatform(docs), [], overlay)
})

t.test('each overlay pins both images to a release', async (t) => {
  for (const [overlay, docs] of Object.entries(rendered)) {
    const images = docs.filter((d) => d.kind === 'Deployment').map((d) => d.spec.template.spec.containers[0].image)
    t.equal(images.length, 2, overlay)
    for (const image of images) t.match(image, /\/tms\/(api|worker):\d+\.\d+\.\d+/, `${overlay}: ${image}`)
  }
})

/** Breaks one thing in a copy of the production overlay and returns what the checks find. */
function broken(breakIt: (docs: Doc[]) => void, check: (docs: Doc[]) => string[]): string {
  const copy = clone(rendered.production!)
  breakIt(copy)
  return check(copy).join('\n')
}
const api = (docs: Doc[]) => docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'tms-api')
const apiContainer = (docs: Doc[]) => api(docs).spec.template.spec.containers[0]

t.test('a misspelled or mistyped field fails the schema validation, naming it', async (t) => {
  const schema = (docs: Doc[]) => [...docs.flatMap(schemaProblems), ...unknownFields(docs)]
  const rename = (object: Doc, from: string, to: string) => {
    object[to] = object[from]
    delete object[from]
  }
  t.match(
    broken((d) => rename(api(d).spec.template.spec, 'terminationGracePeriodSeconds', 'terminationGracePeriodSecond'), schema),
    /terminationGracePeriodSecond/,
  )
  t.match(
    broken((d) => rename(apiContainer(d), 'readinessProbe', 'readynessProbe'), schema),
    /readynessProbe/,
  )
  t.match(
    broken((d) => {
      apiContainer(d).resources.limits.memory = []
    }, schema),
    /memory/,
  )
})

t.test('a deliberately broken Deployment fails the platform rules, naming the rule', async (t) => {
  const cases: Array<[string, (docs: Doc[]) => void, RegExp]> = [
    [
      'replicas beside the HPA',
      (d) => {
        api(d).spec.replicas = 3
      },
      /tms-api: no replicas/,
    ],
    [
      ':latest',
      (d) => {
        apiContainer(d).image = 'registry.example.com/tms/api:latest'
      },
      /not :latest/,
    ],
    [
      'root',
      (d) => {
        api(d).spec.template.spec.securityContext.runAsNonRoot = false
      },
      /runAsNonRoot/,
    ],
    [
      'a writable root filesystem',
      (d) => {
        apiContainer(d).securityContext.readOnlyRootFilesystem = false
      },
      /readOnlyRootFilesystem/,
    ],
    [
      'a capability added',
      (d) => {
        apiContainer(d).securityContext.capabilities.add = ['NET_ADMIN']
      },
      /every capability dropped/,
    ],
    [
      'no PodDisruptionBudget',
      (d) => {
        d.splice(
          d.findIndex((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'tms-api'),
          1,
        )
      },
      /tms-api: a PodDisruptionBudget/,
    ],
  ]
  for (const [name, breakIt, rule] of cases) t.match(broken(breakIt, kubernetesPlatform), rule, name)
  t.same(kubernetesPlatform(appDocs(rendered.production!, 'worker')), [], 'the worker alone keeps them too')
})
