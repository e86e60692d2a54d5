import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ECS_COMMANDS, runAwsCli } from './aws-cli.js'
import { DEPLOY, readJson } from './manifests.js'
import { ecsTaskPlatform } from './platform-rules.js'

t.test('every file under deploy/ecs is the input of one AWS CLI command', async (t) => {
  const files = readdirSync(`${DEPLOY}ecs`).map((f) => `ecs/${f}`)
  t.same(files.sort(), Object.keys(ECS_COMMANDS).sort())
})

t.test("each ECS file passes the AWS CLI's own parameter validation for its command", async (t) => {
  for (const [file, [service, command]] of Object.entries(ECS_COMMANDS)) {
    const check = runAwsCli(service, command, `${DEPLOY}${file}`)
    t.ok(check.accepted, `aws ${service} ${command} accepts ${file}`, { output: check.output })
  }
})

t.test('a misspelled field is refused by the same validation', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tms-ecs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const misspell = (file: string, from: string, to: string) => {
    const text = readFileSync(`${DEPLOY}${file}`, 'utf8')
    t.ok(text.includes(`"${from}"`), `${file} has ${from}`)
    const copy = join(dir, file.replace('/', '-'))
    writeFileSync(copy, text.replace(`"${from}"`, `"${to}"`))
    return copy
  }
  const cases: Array<[string, string, string]> = [
    ['ecs/api-task-definition.json', 'stopTimeout', 'stopTimeOut'],
    ['ecs/api-service.json', 'minimumHealthyPercent', 'minHealthyPercent'],
    ['ecs/api-target-group.json', 'HealthCheckPath', 'HealthcheckPath'],
    ['ecs/worker-scaling-policy.json', 'ScaleInCooldown', 'ScaleInCoolDown'],
  ]
  for (const [file, from, to] of cases) {
    const [service, command] = ECS_COMMANDS[file]!
    const check = runAwsCli(service, command, misspell(file, from, to))
    t.notOk(check.accepted, `${to} in ${file} is refused`)
    t.match(check.output, new RegExp(`Unknown parameter.*${to}`, 's'), 'naming the field')
  }
})

t.test('the task definitions have what ECS checks only at registration', async (t) => {
  for (const file of ['ecs/api-task-definition.json', 'ecs/worker-task-definition.json']) {
    const task = readJson(file)
    t.same(ecsTaskPlatform(task), [], file)
    delete task.executionRoleArn
    task.containerDefinitions[0].image = task.containerDefinitions[0].image.replace(/:[^:]+$/, ':latest')
    const problems = ecsTaskPlatform(task).join('\n')
    t.match(problems, /an executionRoleArn/, `${file} without its execution role`)
    t.match(problems, /not :latest/, `${file} on :latest`)
  }
})

t.test('deploy/README.md gives each file with its command', async (t) => {
  const readme = readFileSync(`${DEPLOY}README.md`, 'utf8')
  for (const [file, [service, command]] of Object.entries(ECS_COMMANDS)) {
    t.match(readme, `aws ${service} ${command}`, `${command} for ${file}`)
    t.match(readme, `--cli-input-json file://deploy/${file}`, file)
  }
})
