import { readFileSync } from 'node:fs'
import t from 'tap'
import { DEPLOY, readJson } from './manifests.js'

/** The Dockerfile's instructions per stage: `FROM … AS <name>` opens a stage. */
function stages(): Map<string, string[]> {
  const text = readFileSync(`${DEPLOY}../Dockerfile`, 'utf8').replace(/\\\n\s*/g, ' ')
  const byStage = new Map<string, string[]>()
  let current: string[] = []
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line)
    if (from) {
      current = []
      byStage.set(from[1]!, current)
    }
    current.push(line.trim())
  }
  return byStage
}

const instruction = (lines: string[], name: string) => lines.filter((l) => l.startsWith(`${name} `))
const options = (line: string) => Object.fromEntries([...line.matchAll(/--([a-z-]+)=(\S+)/g)].map((m) => [m[1], m[2]]))
const seconds = (value: string | undefined) => Number(String(value).replace(/s$/, ''))

for (const app of ['api', 'worker'] as const) {
  t.test(`the ${app} image: node as PID 1 in exec form, as the node user, a health check ECS runs alike`, async (t) => {
    const lines = stages().get(app)
    if (!lines) return t.fail(`no ${app} stage in the Dockerfile`)
    const [cmd] = instruction(lines, 'CMD')
    t.same(JSON.parse(cmd!.slice(4)), ['node', 'dist/main.js'], 'CMD in exec form: no shell or npm between the platform and node')
    t.same(instruction(lines, 'USER'), ['USER node'], 'runs as node')
    const [healthcheck] = instruction(lines, 'HEALTHCHECK')
    const command = JSON.parse(healthcheck!.slice(healthcheck!.indexOf('CMD ') + 4))
    const ecs = readJson(`ecs/${app}-task-definition.json`).containerDefinitions[0].healthCheck
    t.same(ecs.command, ['CMD', ...command], "the ECS health check is the image's")
    const given = options(healthcheck!)
    t.same(
      [seconds(given.interval), seconds(given.timeout), Number(given.retries), seconds(given['start-period'])],
      [ecs.interval, ecs.timeout, ecs.retries, ecs.startPeriod],
      'with the same interval, timeout, retries and start period',
    )
  })
}
