/**
 * The commit probe's own process: one tiny INSERT, committed, every 20 ms, and a JSON line
 * `{"at": <epoch ms>, "ms": <latency>}` on stdout for every commit slower than the threshold.
 * Its own process, so that the load generator's event loop never delays it and its latency is
 * the database's alone. Stops on SIGTERM.
 */
import pg from 'pg'

const url = new URL(process.argv[2]!)
const thresholdMs = Number(process.argv[3] ?? 50)
const schema = url.searchParams.get('schema') ?? 'public'
url.searchParams.delete('schema')
const client = new pg.Client({ connectionString: url.toString(), application_name: 'tms rehearsal commit probe' })
let running = true
process.once('SIGTERM', () => {
  running = false
})
await client.connect()
await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".commit_probe (at timestamptz NOT NULL DEFAULT now())`)
process.stdout.write('{"ready":true}\n')
while (running) {
  const started = Date.now()
  const t0 = performance.now()
  await client.query(`INSERT INTO "${schema}".commit_probe DEFAULT VALUES`)
  const ms = performance.now() - t0
  if (ms >= thresholdMs) process.stdout.write(`${JSON.stringify({ at: started, ms })}\n`)
  await new Promise((resolve) => setTimeout(resolve, 20))
}
await client.query(`DROP TABLE IF EXISTS "${schema}".commit_probe`)
await client.end()
