import { openStorage } from '@tms/storage'
import { sqlClient } from '@tms/testing'
import { QuarantinedOrders, shipmentRequests, WAREHOUSE_COLLECTIONS } from '@tms/warehouse'
import t from 'tap'
import { inspector, isolatedEnv, shopFault, startShop, startWorker, until } from '../support.js'

t.test('end to end: N shop orders become N shipment requests; a second sync creates none', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '40', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0.25' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  await look.admin.runNow('sync-orders')
  const first = await until(async () => (await look.runs.all('sync-orders')).find((r) => r.outcome === 'succeeded'))
  t.match(first.result, { created: 40 })
  t.equal(await look.storage.count(shipmentRequests), 40)
  const problems = (first.result as { withProblems: number }).withProblems
  t.ok(problems > 0, `${problems} orders came with data problems, recorded on their requests`)
  t.equal((await look.storage.find(shipmentRequests, { limit: 100 })).filter((r) => r.data.errors.length > 0).length, problems)
  await look.admin.runNow('sync-orders')
  const second = await until(async () => (await look.runs.all('sync-orders')).filter((r) => r.outcome === 'succeeded')[1])
  t.match(second.result, { created: 0 }, 'the second sync creates none')
  t.equal(await look.storage.count(shipmentRequests), 40)
  await worker.stop()
})

t.test('a shop that answers 500 or does not answer: a recorded failure, a retry, no crash', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '5', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url, SHOP_TIMEOUT_MS: '500' })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)

  // Interval schedules tick once when first created; wait for that before injecting faults.
  await until(async () => (await look.runs.all('sync-orders')).find((r) => r.trigger === 'schedule' && r.outcome === 'succeeded'))
  const onDemand = async () => (await look.runs.all('sync-orders')).filter((r) => r.trigger === 'on-demand')
  await shopFault(shop.url, { mode: 'error', requests: 3 }) // one attempt's three tries
  await look.admin.runNow('sync-orders')
  const recovered = await until(async () => (await onDemand()).find((r) => r.outcome === 'succeeded'))
  const failed = (await onDemand()).find((r) => r.outcome === 'failed')
  t.match(failed, { attempt: 1, error: /failed 3 times: shop answered 500/ }, 'the failure is recorded')
  t.notMatch(failed?.error, new URL(shop.url).host, "without the shop's address (operators see it; it may hold credentials)")
  t.match(recovered, { attempt: 2, result: { created: 0 } }, 'and the retry succeeded')

  await shopFault(shop.url, { mode: 'timeout', requests: 3 })
  await look.admin.runNow('sync-orders')
  await until(async () => (await onDemand()).filter((r) => r.outcome === 'succeeded').length >= 2)
  const timedOut = (await onDemand()).filter((r) => r.outcome === 'failed')[1]
  t.match(timedOut, { error: /no answer within 500 ms/ }, 'a shop that does not answer is a recorded failure too')
  t.ok(worker.running, 'the worker is still up')
  t.same(await worker.stop(), { code: 0, signal: null })
})

t.test(
  'malformed shop orders: the storable become requests with problems, the rest are quarantined, the sync moves on',
  async (t) => {
    const shop = await startShop(t, {
      SHOP_INITIAL_ORDERS: '10',
      SHOP_ORDERS_PER_MINUTE: '0',
      SHOP_PROBLEM_RATE: '0',
      SHOP_MALFORMED: '2:no-name,4:no-lines,5:bad-quantity,7:no-city,9:huge-name',
    })
    const env = await isolatedEnv(t, { SHOP_API_URL: shop.url })
    const look = await inspector(t, env)
    const worker = await startWorker(t, env)
    const { jobId: firstJob } = await look.admin.runNow('sync-orders')
    // The first run to end (the schedule's own first tick, or this one) met every order.
    const first = await until(async () => (await look.runs.all('sync-orders')).find((r) => r.outcome !== 'running'))
    t.match(first, { outcome: 'succeeded', result: { created: 7, quarantined: 3, cursor: 10 } }, 'the run succeeds past them')
    const requests = await look.storage.find(shipmentRequests, { limit: 100 })
    t.equal(requests.length, 7)
    const problemsOf = (orderId: string) => requests.find((r) => r.data.orderId === orderId)?.data.errors.map((e) => e.field)
    t.same(problemsOf('SHOP-42-2'), ['address.name'], 'a missing name is a data problem to fix')
    t.same(problemsOf('SHOP-42-7'), ['address.city'])
    const quarantined = await new QuarantinedOrders(look.storage).list()
    t.same(quarantined.map((q) => q.source).sort(), ['shop:4', 'shop:5', 'shop:9'])
    t.match(
      quarantined.find((q) => q.source === 'shop:5'),
      { orderId: 'SHOP-42-5', problems: [/order\.lines\.0\.quantity must be integer/] },
    )
    t.ok(
      quarantined.every((q) => q.payload.length <= 4096),
      'payloads kept bounded (the 10 KB name is cut)',
    )

    // From the start again: nothing new, nothing quarantined twice.
    await look.redis.set(`${env.REDIS_KEY_PREFIX}sync-orders:cursor`, '0')
    const ended = async () => (await look.runs.all('sync-orders')).filter((r) => r.outcome !== 'running')
    const before = (await until(async () => (await ended()).length >= 2 && ended())).length
    // Recorded is not yet finished in BullMQ: until it is, "run now" joins that job (deduplicated).
    await until(async () => (await look.queue.getJob(firstJob))?.finishedOn)
    await look.admin.runNow('sync-orders')
    const again = await until(async () => (await ended())[before])
    t.match(again, { outcome: 'succeeded', result: { created: 0, quarantined: 0, cursor: 10 } }, 'a rerun from 0 adds nothing')
    t.equal((await new QuarantinedOrders(look.storage).list()).length, 3)
    t.same(await worker.stop(), { code: 0, signal: null })
  },
)

t.test('an order with characters no database takes is quarantined with the field named', async (t) => {
  const shop = await startShop(t, {
    SHOP_INITIAL_ORDERS: '5',
    SHOP_ORDERS_PER_MINUTE: '0',
    SHOP_PROBLEM_RATE: '0',
    SHOP_MALFORMED: '2:nul-in-name,4:lone-surrogate-city',
  })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  await look.admin.runNow('sync-orders')
  const first = await until(async () => (await look.runs.all('sync-orders')).find((r) => r.outcome !== 'running'))
  t.match(first, { outcome: 'succeeded', result: { created: 3, quarantined: 2, cursor: 5 } })
  const quarantined = await new QuarantinedOrders(look.storage).list()
  t.match(Object.fromEntries(quarantined.map((q) => [q.source, q.problems[0]])), {
    'shop:2': /^order\.shipTo\.name must be one line of text: no control characters/,
    'shop:4': /^order\.shipTo\.city must be one line of text: .*unpaired surrogates/,
  })
  t.same(await worker.stop(), { code: 0, signal: null })
})

t.test('an order the database refuses is quarantined with the reason; the sync moves past it', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '5', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url })
  // The tables first, then a trigger that refuses one order as only the database can (a value
  // that passed every check of ours): the worker finds the schema complete at start.
  const storage = openStorage(env.DATABASE_URL!)
  await storage.migrate(WAREHOUSE_COLLECTIONS)
  await storage.close()
  const sql = await sqlClient(t, env.DATABASE_URL!)
  await sql.query(`CREATE FUNCTION refuse_order_3() RETURNS trigger AS $$
    BEGIN
      IF NEW.data->>'orderId' = 'SHOP-42-3' THEN RAISE EXCEPTION 'value refused by the database'; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`)
  await sql.query(
    'CREATE TRIGGER refuse_order_3 BEFORE INSERT ON shipment_requests FOR EACH ROW EXECUTE FUNCTION refuse_order_3()',
  )
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  await look.admin.runNow('sync-orders')
  const first = await until(async () => (await look.runs.all('sync-orders')).find((r) => r.outcome !== 'running'))
  t.match(first, { outcome: 'succeeded', result: { created: 4, quarantined: 1, cursor: 5 } }, 'the run goes on past it')
  const [held] = await new QuarantinedOrders(look.storage).list()
  t.match(held, {
    source: 'shop:3',
    orderId: 'SHOP-42-3',
    problems: ['could not be stored: P0001: value refused by the database'],
  })
  t.same(await worker.stop(), { code: 0, signal: null })
})
