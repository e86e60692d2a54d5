/**
 * npm run deploy -- --app api|worker|all [--strategy rolling|recreate] [--stop-order lb-first|signal-first]
 *
 * Deploys the current build (npm run deploy builds first) to the cluster `npm start` runs,
 * showing each step, and exits 0 when it is done.
 */
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import type { TimelineEvent } from '@tms/cluster'
import { formatEvent, gitDescribe, isRunning, localClusterDir, readClusterState } from '@tms/cluster'

const { values } = parseArgs({
  options: {
    app: { type: 'string', default: 'all' },
    strategy: { type: 'string' },
    'stop-order': { type: 'string' },
  },
})
const fail = (message: string): never => {
  process.stderr.write(`[deploy] ${message}\n`)
  process.exit(1)
}
if (!['api', 'worker', 'all'].includes(values.app!)) fail('--app must be api, worker or all')
if (values.strategy && !['rolling', 'recreate'].includes(values.strategy)) fail('--strategy must be rolling or recreate')
if (values['stop-order'] && !['lb-first', 'signal-first'].includes(values['stop-order']))
  fail('--stop-order must be lb-first or signal-first')
const state = readClusterState(`${localClusterDir()}/state.json`)
if (!state || !isRunning(state.supervisor))
  fail('no local cluster is running: run `npm start`, and deploy once it prints its URL')
const control = state!.control ?? fail('the local cluster is still starting: deploy once `npm start` prints its URL')

const version = `0.1.0+${gitDescribe()}.${new Date().toISOString().slice(11, 19).replaceAll(':', '')}`
const started = Date.now()
process.stderr.write(`[deploy] ${values.app} -> ${version} (${values.strategy ?? 'the app’s strategy'})\n`)
const response = await fetch(`${control}/deploy`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ app: values.app, version, strategy: values.strategy, stopOrder: values['stop-order'] }),
}).catch(() => fail(`the cluster at ${control} does not answer: is \`npm start\` still running?`))
for await (const line of createInterface({ input: Readable.fromWeb(response.body! as never) })) {
  const message = JSON.parse(line) as TimelineEvent & { done?: boolean; error?: string }
  if (message.error) fail(`deploy failed: ${message.error}`)
  if (message.done) {
    process.stderr.write(`[deploy] done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
    process.exit(0)
  }
  process.stderr.write(`[deploy] ${formatEvent(message, started)}\n`)
}
fail('the cluster closed the connection before the deploy finished')
