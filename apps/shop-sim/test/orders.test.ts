import t from 'tap'
import { OrderBook } from '../src/orders.js'

const book = (overrides: Partial<ConstructorParameters<typeof OrderBook>[0]> = {}) =>
  new OrderBook({ seed: 7, initial: 10, perMinute: 60, problemRate: 0.3, startedAt: 1_000_000, ...overrides })

t.test('the same seed gives the same orders', async (t) => {
  t.same(book().order(5), book().order(5))
  t.not(JSON.stringify(book().order(5)), JSON.stringify(book({ seed: 8 }).order(5)))
})

t.test('orders arrive at the configured rate and page by cursor', async (t) => {
  const b = book()
  t.equal(b.count(1_000_000), 10)
  t.equal(b.count(1_000_000 + 30_000), 40, '60 a minute: 30 more after 30 s')
  const first = b.page(0, 4, 1_000_000)
  t.same(
    first.items.map((o) => o.seq),
    [1, 2, 3, 4],
  )
  t.equal(first.next, 4)
  const rest = b.page(first.next, 100, 1_000_000)
  t.equal(rest.items.length, 6)
  t.same(b.page(10, 100, 1_000_000), { items: [], next: 10 }, 'nothing new: the cursor stays')
})

t.test('some orders carry a data problem', async (t) => {
  const orders = Array.from({ length: 200 }, (_, i) => book().order(i + 1))
  const problems = orders.filter(
    (o) => !o.shipTo.zip || o.shipTo.country === 'XX' || o.lines.some((l) => l.sku.startsWith('DISCONTINUED')),
  )
  t.ok(problems.length > 30 && problems.length < 90, `about 30% (${problems.length} of 200)`)
})
