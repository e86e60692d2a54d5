import t from 'tap'
import { isolatedEnv, startApiProcess } from '../support.js'

t.test('a real instance warms up before it listens, so it reports ready warm', async (t) => {
  const api = await startApiProcess(t, await isolatedEnv(t, { WARM_UP_REQUESTS: '50' }))
  const lines = api.child.logs
  const warmed = lines.findIndex((l) => l.msg === 'warmed up')
  const listening = lines.findIndex((l) => l.msg === 'listening')
  t.ok(warmed >= 0 && warmed < listening, 'warmed up, then listening')
  t.notOk(
    lines.slice(0, listening).some((l) => l.msg === 'request'),
    'its own requests are not in the log at info, only the one line',
  )
  const line = lines[warmed]!
  t.equal(line.requests, 50)
  const codes = Object.keys(line.statuses as object).map(Number)
  t.notOk(
    codes.some((code) => code === 401 || code === 403 || code >= 500),
    `no 401, 403 or 5xx: ${JSON.stringify(line.statuses)}`,
  )
})
