import { openJobsQueue, ScheduleRegistry } from '@tms/jobs'
import { LockService, locksPrefix } from '@tms/locks'
import { connectRedis, createRedis } from '@tms/redis'
import { QuarantinedOrders } from '@tms/warehouse'
import t from 'tap'
import { buildTestApi, loginCookie, userCookie } from './support.js'

t.test('operators watch and steer jobs through the API', async (t) => {
  const api = await buildTestApi(t)
  const admin = await loginCookie(api.app)
  const agent = (await userCookie(api.app, admin, ['agent'])).cookie
  const call = (method: 'GET' | 'POST', url: string, cookie = admin) => api.app.inject({ method, url, headers: { cookie } })

  // A worker has written the schedule table (here: the registry, as a worker does at start).
  const redis = createRedis(api.env.REDIS_URL!, { connectionName: 'jobs-api-test', role: 'blocking' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  const queue = openJobsQueue(redis, api.env.REDIS_KEY_PREFIX!)
  t.teardown(() => queue.close())
  await new ScheduleRegistry(redis, api.env.REDIS_KEY_PREFIX!).sync({
    queue,
    locks: new LockService({ redis, prefix: locksPrefix(api.env.REDIS_KEY_PREFIX!) }),
    table: [{ id: 'sync-orders', every: 300_000, maxRunTimeMs: 60_000 }],
    version: 1,
    instance: 'test',
  })

  t.equal((await call('GET', '/admin/jobs', agent)).statusCode, 403, 'operators only')
  const listed = (await call('GET', '/admin/jobs')).json().items
  t.match(listed, [{ id: 'sync-orders', every: 300_000, paused: false, running: null, version: 1 }])
  t.ok(Date.parse(listed[0].nextRunAt) > 0)

  const first = await call('POST', '/orders/sync')
  t.equal(first.statusCode, 202)
  const again = await call('POST', '/orders/sync')
  t.equal(again.json().jobId, first.json().jobId, 'deduplicated while one waits')
  const onDemand = (await queue.getWaiting()).filter((job) => !job.id?.startsWith('repeat:'))
  t.equal(onDemand.length, 1, 'one job queued, not two (beside the schedule’s own tick)')

  t.equal((await call('POST', '/admin/jobs/sync-orders/pause')).statusCode, 204)
  t.match((await call('GET', '/admin/jobs')).json().items, [{ paused: true, nextRunAt: null }])
  t.equal((await call('POST', '/admin/jobs/sync-orders/resume')).statusCode, 204)
  t.equal((await call('POST', '/admin/jobs/sync-orders/run')).statusCode, 202)
  t.same((await call('GET', '/admin/jobs/sync-orders/runs?limit=5')).json(), { items: [] }, 'no worker ran anything yet')
  t.equal((await call('POST', '/admin/jobs/no-such-job/pause')).statusCode, 404)
  t.equal((await call('GET', '/admin/jobs/BAD_ID!/runs')).statusCode, 400)
})

t.test('GET /quarantined-orders: operators see what the sync could not store', async (t) => {
  const api = await buildTestApi(t)
  const admin = await loginCookie(api.app)
  const agent = (await userCookie(api.app, admin, ['agent'])).cookie
  // As the worker's sync does when an order arrives without lines.
  await new QuarantinedOrders(api.storage).record({
    source: 'shop:4',
    orderId: 'SHOP-42-4',
    problems: ["order must have required property 'lines'"],
    payload: { seq: 4, id: 'SHOP-42-4', shipTo: { name: 'Ada' } },
  })
  const get = (cookie: string) => api.app.inject({ method: 'GET', url: '/quarantined-orders', headers: { cookie } })
  t.equal((await get(agent)).statusCode, 403, 'operators only')
  const listed = await get(admin)
  t.equal(listed.statusCode, 200)
  t.match(listed.json().items, [
    { source: 'shop:4', orderId: 'SHOP-42-4', problems: [/lines/], payload: /"shipTo":\{"name":"Ada"\}/ },
  ])
})
