import { createServer, type Server } from 'node:http'
import t, { type Test } from 'tap'
import { ShopClient } from '../src/shop-client.js'

/** A real HTTP server playing a shop that answers `body` to every request. */
async function shopAnswering(t: Test, body: () => string | Buffer, headers: Record<string, string> = {}): Promise<string> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', ...headers })
    response.end(body())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

const orders = (url: string) => new ShopClient(url, 5000, { attempts: 1 }).orders(0, 100, new AbortController().signal)

t.test('a page is checked before anything on it is used', async (t) => {
  await t.rejects(
    orders(await shopAnswering(t, () => '{"items": "none", "next": 1}')),
    /malformed page: page\.items must be array/,
  )
  await t.rejects(orders(await shopAnswering(t, () => '<html>')), /not JSON/)
  const tooMany = JSON.stringify({ items: Array.from({ length: 101 }, (_, i) => ({ seq: i + 1 })), next: 101 })
  await t.rejects(orders(await shopAnswering(t, () => tooMany)), /must NOT have more than 100 items/)
  const fine = await orders(await shopAnswering(t, () => '{"items": [{"anything": 1}], "next": 1}'))
  t.same(fine, { items: [{ anything: 1 }], next: 1 }, 'orders on a good page are checked one by one, later')
})

t.test('a page past 4 MB is refused without reading it all', async (t) => {
  const huge = Buffer.alloc(5 * 1024 * 1024, ' ')
  await t.rejects(orders(await shopAnswering(t, () => huge)), /answered more than 4194304 bytes/)
  await t.rejects(
    orders(await shopAnswering(t, () => huge, { 'transfer-encoding': 'chunked' })),
    /answered more than 4194304 bytes/,
    'also when it does not say its length',
  )
})

t.test('the shop’s credentials travel in their own header, never in the URL, and no error names the URL', async (t) => {
  const seen: Array<string | undefined> = []
  const server: Server = createServer((request, response) => {
    seen.push(request.headers.authorization)
    const allowed = request.headers.authorization === 'Bearer shop-secret'
    response.writeHead(allowed ? 200 : 401, { 'content-type': 'application/json' })
    response.end(allowed ? '{"items": [], "next": 0}' : '{"error": "who are you"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const signal = new AbortController().signal
  t.same(await new ShopClient(url, 5000, { authorization: 'Bearer shop-secret' }).orders(0, 100, signal), { items: [], next: 0 })
  await new ShopClient(url, 5000, { authorization: 'Bearer shop-secret' })
    .notifyShipped('o-1', { shipmentId: 's', trackingNumber: 't' }, signal)
    .catch(() => undefined)
  t.same(seen, ['Bearer shop-secret', 'Bearer shop-secret'], 'on reads and webhooks alike')
  await t.rejects(new ShopClient(url, 5000, { attempts: 1 }).orders(0, 100, signal), /shop answered 401/)
  // A URL that fetch itself refuses, quoting it: the run's error must not.
  const failed = await new ShopClient('http://user:password@127.0.0.1:9', 5000, { attempts: 1 })
    .orders(0, 100, signal)
    .catch((error: Error) => error)
  t.match(failed, { message: /the shop failed 1 times/ })
  t.notMatch((failed as Error).message, /password|127\.0\.0\.1/, 'no URL, no credentials')
})
