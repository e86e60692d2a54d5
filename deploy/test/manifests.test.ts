import t from 'tap'
import { appDocs, OVERLAYS, render } from './kustomize.js'
import { API_BASE_MIB, clone, type Doc, longestRequestMs, readJson, scryptMiB } from './manifests.js'
import { ecsApi, ecsWorker, kubernetesApi, kubernetesWorker, localCluster } from './zero-downtime-rules.js'

const facts = { longestRequestMs: longestRequestMs(), scryptMiB: scryptMiB(), apiBaseMiB: API_BASE_MIB }
const rendered = Object.fromEntries(OVERLAYS.map((overlay) => [overlay, render(overlay)]))
const k8sApi = appDocs(rendered.production!, 'api')
const k8sWorker = appDocs(rendered.production!, 'worker')
const ecs = {
  apiTask: readJson('ecs/api-task-definition.json'),
  apiService: readJson('ecs/api-service.json'),
  /** The balancer in front of the API, as the three elbv2 commands' inputs set it up. */
  apiLb: {
    targetGroup: readJson('ecs/api-target-group.json'),
    targetGroupAttributes: readJson('ecs/api-target-group-attributes.json').Attributes,
    loadBalancerAttributes: readJson('ecs/api-load-balancer-attributes.json').Attributes,
  },
  workerTask: readJson('ecs/worker-task-definition.json'),
  workerService: readJson('ecs/worker-service.json'),
}
const local = readJson('local/cluster.json')

t.test('the longest request is read from the API itself', async (t) => {
  t.equal(facts.longestRequestMs, 60_000)
})

t.test('every deployment definition keeps the zero-downtime rules', async (t) => {
  for (const [overlay, docs] of Object.entries(rendered)) {
    t.same(kubernetesApi(appDocs(docs, 'api'), facts), [], `k8s/overlays/${overlay}: the API`)
    t.same(kubernetesWorker(appDocs(docs, 'worker')), [], `k8s/overlays/${overlay}: the worker`)
  }
  t.same(ecsApi(ecs.apiTask, ecs.apiService, ecs.apiLb, facts), [], 'ecs/api-*')
  t.same(ecsWorker(ecs.workerTask, ecs.workerService), [], 'ecs/worker-*')
  t.same(localCluster(local, facts), [], 'local/cluster.json')
})

/** Breaks one thing in a copy and expects exactly the rule about it to fail. */
function broken<T>(original: T, breakIt: (copy: Doc) => void, check: (copy: T) => string[]): string[] {
  const copy = clone(original)
  breakIt(copy)
  return check(copy)
}

const deployment = (docs: Doc[]) => docs.find((d) => d.kind === 'Deployment')
const apiContainer = (docs: Doc[]) => deployment(docs).spec.template.spec.containers[0]
const setEnv = (list: Array<{ name: string; value?: string }>, name: string, value: string) => {
  const entry = list.find((e) => e.name === name)
  if (entry) entry.value = value
  else list.push({ name, value })
}

t.test('a deliberately broken Kubernetes API manifest fails, naming the rule', async (t) => {
  const check = (docs: Doc[]) => kubernetesApi(docs, facts)
  const cases: Array<[string, (docs: Doc[]) => void, RegExp]> = [
    [
      'capacity may drop',
      (d) => {
        deployment(d).spec.strategy.rollingUpdate.maxUnavailable = 1
      },
      /maxUnavailable is 0/,
    ],
    [
      'readiness on the liveness path',
      (d) => {
        apiContainer(d).readinessProbe.httpGet.path = '/health/live'
      },
      /readinessProbe checks \/health\/ready/,
    ],
    [
      'grace shorter than drain + longest request',
      (d) => {
        deployment(d).spec.template.spec.terminationGracePeriodSeconds = 30
      },
      /terminationGracePeriodSeconds \(30\)/,
    ],
    [
      'keep-alive below the balancer idle timeout',
      (d) => setEnv(apiContainer(d).env, 'KEEP_ALIVE_TIMEOUT_MS', '5000'),
      /KEEP_ALIVE_TIMEOUT_MS \(5000\) is above/,
    ],
    ['no drain', (d) => setEnv(apiContainer(d).env, 'DRAIN_DELAY_MS', '0'), /the drain .* outlasts readiness noticing/],
    [
      'a liveness probe that checks the dependencies',
      (d) => {
        apiContainer(d).livenessProbe.httpGet.path = '/health/ready'
      },
      /livenessProbe checks \/health\/live/,
    ],
    [
      'four hashes at once in 512 MiB',
      (d) => setEnv(apiContainer(d).env, 'PASSWORD_HASH_CONCURRENCY', '4'),
      /the memory limit \(512 MiB\) holds the API \(128 MiB\) and 4 password hashes of 128 MiB at once/,
    ],
    [
      'no bound on hashes',
      (d) => {
        const container = apiContainer(d)
        container.env = container.env.filter((e: { name: string }) => e.name !== 'PASSWORD_HASH_CONCURRENCY')
      },
      /PASSWORD_HASH_CONCURRENCY is set/,
    ],
  ]
  for (const [name, breakIt, rule] of cases) {
    const problems = broken(k8sApi, (d) => breakIt(d), check)
    t.match(problems.join('\n'), rule, name)
  }
  const withPreStop = clone(k8sApi)
  setEnv(apiContainer(withPreStop).env, 'DRAIN_DELAY_MS', '1')
  apiContainer(withPreStop).lifecycle = { preStop: { sleep: { seconds: 10 } } }
  t.notMatch(kubernetesApi(withPreStop, facts).join('\n'), /outlasts readiness/, 'a preStop sleep is a drain too')
})

t.test('a deliberately broken Kubernetes worker manifest fails', async (t) => {
  const container = (d: Doc[]) => deployment(d).spec.template.spec.containers[0]
  t.match(
    broken(k8sWorker, (d) => setEnv(container(d).env, 'WORKER_SHUTDOWN_TIMEOUT_MS', '900000'), kubernetesWorker).join('\n'),
    /terminationGracePeriodSeconds \(630\) is above WORKER_SHUTDOWN_TIMEOUT_MS \(900000\)/,
  )
  t.match(
    broken(k8sWorker, (d) => d.push({ kind: 'Service', metadata: { name: 'tms-worker' } }), kubernetesWorker).join('\n'),
    /no Service or Ingress/,
  )
})

t.test('deliberately broken ECS definitions fail', async (t) => {
  const api = (mutate: (c: typeof ecs) => void) => {
    const copy = clone(ecs)
    mutate(copy)
    return ecsApi(copy.apiTask, copy.apiService, copy.apiLb, facts).join('\n')
  }
  t.match(
    api((c) => {
      c.apiService.deploymentConfiguration.minimumHealthyPercent = 50
    }),
    /minimumHealthyPercent is 100/,
  )
  t.match(
    api((c) => {
      c.apiTask.containerDefinitions[0].stopTimeout = 30
    }),
    /stopTimeout \(30 s\) is above/,
  )
  t.match(
    api((c) => {
      c.apiTask.containerDefinitions[0].stopTimeout = 300
    }),
    /at most 120 s on Fargate/,
  )
  t.match(
    api((c) => {
      c.apiTask.memory = '384'
    }),
    /the memory limit \(384 MiB\) holds the API/,
  )
  t.match(
    api((c) => {
      c.apiLb.targetGroupAttributes[0].Value = '10'
    }),
    /deregistration delay \(10 s\)/,
  )
  t.match(
    api((c) => {
      c.apiLb.targetGroup.HealthCheckPath = '/'
    }),
    /health-checks \/health\/ready/,
  )
  const worker = (mutate: (c: typeof ecs) => void) => {
    const copy = clone(ecs)
    mutate(copy)
    return ecsWorker(copy.workerTask, copy.workerService).join('\n')
  }
  t.match(
    worker((c) => setEnv(c.workerTask.containerDefinitions[0].environment, 'WORKER_SHUTDOWN_TIMEOUT_MS', '600000')),
    /stopTimeout \(120 s\) is above WORKER_SHUTDOWN_TIMEOUT_MS \(600000\)/,
    'the Fargate cap: a ten-minute shutdown does not fit in 120 s',
  )
  t.match(
    worker((c) => {
      c.workerService.loadBalancers = [{ containerName: 'worker' }]
    }),
    /no load balancer/,
  )
})

t.test('a deliberately broken local cluster definition fails', async (t) => {
  const copy = clone(local)
  copy.api.minimumHealthyPercent = 50
  copy.api.env.SHUTDOWN_TIMEOUT_MS = '10000'
  const problems = localCluster(copy, facts).join('\n')
  t.match(problems, /minimumHealthyPercent 100/)
  t.match(problems, /SHUTDOWN_TIMEOUT_MS \(10000\) covers/)
})
