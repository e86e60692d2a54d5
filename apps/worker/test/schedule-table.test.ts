import t from 'tap'
import { readWorkerConfig } from '../src/config.js'
import { scheduleTable } from '../src/schedule-table.js'

t.test('the schedule table: intervals from the environment, a run bounded below its interval', async (t) => {
  const table = scheduleTable(readWorkerConfig({ JOB_SYNC_ORDERS_EVERY: '5m', JOB_CREATE_SHIPMENTS_EVERY: '1s' }))
  t.same(
    table.map((s) => s.id),
    ['sync-orders', 'create-shipments', 'notify-shipped', 'housekeeping'],
  )
  const sync = table.find((s) => s.id === 'sync-orders')!
  t.equal(sync.every, 300_000)
  t.equal(sync.maxRunTimeMs, 240_000, '80 % of the interval')
  t.equal(table.find((s) => s.id === 'create-shipments')!.maxRunTimeMs, 10_000, 'never under 10 s, however short the interval')
  const daily = scheduleTable(readWorkerConfig({ JOB_SYNC_ORDERS_EVERY: '1d' }))
  t.equal(daily.find((s) => s.id === 'sync-orders')!.maxRunTimeMs, 20 * 60_000, 'a sync never runs past 20 minutes')
})
