import t from 'tap'
import { AGENT, call, logIn, login, OPERATOR, openPage, registerSchedules, screenshotPath, startStation } from './station.js'

t.test('an agent logs in, claims, packs and ships, and is back at the pending list', async (t) => {
  const station = await startStation(t)
  const [orderId] = await station.createShipments(3)
  const { page, failedRequests } = await openPage(station.browser, station.url)

  await logIn(page, { email: AGENT.email, password: 'not the password' })
  await t.resolves(
    page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor(),
    'a wrong password, in words',
  )
  await logIn(page, AGENT)
  await page.getByText(`${AGENT.email} (agent)`).waitFor()
  t.match(await page.locator('header').innerText(), /API 0\.1\.0/, 'who is logged in, their role and the API version')
  t.equal(await page.getByRole('alert').count(), 0, 'the alert is gone once logged in')

  const pending = page.getByRole('list', { name: 'Pending shipments' })
  await pending.getByRole('listitem').first().waitFor()
  t.equal(await pending.getByRole('listitem').count(), 3)
  await pending
    .getByRole('listitem')
    .filter({ hasText: `Order ${orderId}` })
    .getByRole('button', { name: 'Claim' })
    .click()

  await page.getByRole('heading', { name: `Order ${orderId}` }).waitFor()
  t.match(await page.getByRole('list', { name: 'Items' }).innerText(), /1 × TRK-DOG-4/)
  t.match(await page.locator('address').innerText(), /Main 1\s+4020 Linz\s+AT/)
  await page.getByRole('button', { name: 'Pack', exact: true }).click()
  const tracking = page.getByLabel('Tracking number')
  await tracking.waitFor()
  t.ok(await tracking.evaluate((el) => el === document.activeElement), 'the tracking number field has the focus, for the scanner')
  await page.screenshot({ path: screenshotPath('packing-station') })
  // A scanner types the code and presses Enter.
  await tracking.pressSequentially('AT-778899')
  await tracking.press('Enter')

  await page
    .getByRole('status')
    .filter({ hasText: `Shipped order ${orderId} with AT-778899.` })
    .waitFor()
  await pending.getByRole('listitem').nth(1).waitFor()
  t.equal(await pending.getByRole('listitem').count(), 2, 'back at the pending list, the shipped one gone')
  const shipped = await call<{ items: Array<{ orderId: string; trackingNumber: string }> }>(
    station.url,
    station.admin,
    'GET',
    '/shipments?status=SHIPPED',
  )
  t.match(shipped.items, [{ orderId, trackingNumber: 'AT-778899' }], 'shipped once, with the scanned number')
  t.same(failedRequests, [], 'no request failed')
})

t.test('a refusal is shown in words, not retried; the claim of another agent is not offered', async (t) => {
  const station = await startStation(t)
  const [first, second] = await station.createShipments(2)
  const { page } = await openPage(station.browser, station.url)
  await logIn(page, AGENT)
  const pending = page.getByRole('list', { name: 'Pending shipments' })
  await pending.getByRole('listitem').nth(1).waitFor()
  // Another agent takes the first one between the list and the click.
  await call(station.url, station.admin, 'POST', '/users', {
    email: 'other@station.test',
    password: 'another agent password',
    roles: ['agent'],
  })
  const otherCookie = await login(station.url, { email: 'other@station.test', password: 'another agent password' })
  const list = await call<{ items: Array<{ id: string; orderId: string }> }>(
    station.url,
    otherCookie,
    'GET',
    '/shipments?status=PENDING',
  )
  await call(station.url, otherCookie, 'POST', `/shipments/${list.items.find((s) => s.orderId === first)!.id}/claim`)

  await pending
    .getByRole('listitem')
    .filter({ hasText: `Order ${first}` })
    .getByRole('button', { name: 'Claim' })
    .click()
  const alert = page.getByRole('alert')
  await alert.waitFor()
  t.match(await alert.innerText(), /held by|claimed|another/i, `in words: "${await alert.innerText()}"`)
  t.equal(await page.getByRole('status').innerText(), '', 'no "Reconnecting…": a 409 is an answer')
  await page.waitForFunction(() => document.querySelectorAll('[aria-label="Pending shipments"] > li').length === 1)
  t.match(await pending.innerText(), new RegExp(`Order ${second}`), 'the other one is still offered')
})

t.test('an operator pauses and resumes a job, fixes a request and creates shipments in bulk', async (t) => {
  const station = await startStation(t)
  await registerSchedules(t, station.env)
  const { page } = await openPage(station.browser, station.url)
  await logIn(page, OPERATOR)
  await page.getByRole('button', { name: 'Jobs' }).click()
  const row = page.getByRole('row', { name: /sync-orders/ })
  await row.waitFor()
  t.match(await row.innerText(), /scheduled/)
  await row.getByRole('button', { name: 'Pause sync-orders' }).click()
  await page.getByRole('status').filter({ hasText: 'Paused: sync-orders.' }).waitFor()
  await row.getByRole('button', { name: 'Resume sync-orders' }).waitFor()
  t.match(await row.innerText(), /paused/)
  const jobs = await call<{ items: Array<{ id: string; paused: boolean }> }>(station.url, station.admin, 'GET', '/admin/jobs')
  t.match(jobs.items, [{ id: 'sync-orders', paused: true }], 'paused in the API too')
  await page.screenshot({ path: screenshotPath('operator-jobs') })
  await row.getByRole('button', { name: 'Resume sync-orders' }).click()
  await page.getByRole('status').filter({ hasText: 'Resumed: sync-orders.' }).waitFor()
  await row.getByRole('button', { name: 'Pause sync-orders' }).waitFor()

  await call(station.url, station.admin, 'POST', '/shipment-requests', {
    orderId: 'o-broken',
    items: [{ sku: 'TRK-DOG-4', quantity: 1 }],
    address: { name: 'Bo', street: 'Elm 2', city: 'Wien', country: 'Narnia' },
  })
  await call(station.url, station.admin, 'POST', '/shipment-requests', {
    orderId: 'o-fine',
    items: [{ sku: 'TRK-DOG-4', quantity: 1 }],
    address: { name: 'Cy', street: 'Oak 3', city: 'Graz', postalCode: '8010', country: 'AT' },
  })
  await page.getByRole('button', { name: 'Shipment requests' }).click()
  const problems = page.getByRole('list', { name: 'Problems of order o-broken' })
  await problems.waitFor()
  t.match(await problems.innerText(), /address\.postalCode/, 'the problems per field')
  t.match(await problems.innerText(), /address\.country/)
  await page.getByRole('button', { name: 'Fix the address of order o-broken' }).click()
  const form = page.getByRole('form', { name: 'Address of order o-broken' })
  t.equal(await form.getByLabel('City').inputValue(), 'Wien', 'the form holds the address as it is')
  await form.getByLabel('Postal code').fill('1010')
  await form.getByLabel('Country').fill('AT')
  await form.getByRole('button', { name: 'Save' }).click()
  await page.getByRole('status').filter({ hasText: 'Fixed order o-broken: ready for the next bulk creation.' }).waitFor()
  await page.getByText('No request needs fixing.').waitFor()
  await page.getByRole('button', { name: 'Create shipments' }).click()
  await page.getByRole('status').filter({ hasText: 'Created 2 shipments from the ready requests.' }).waitFor()
  t.pass('bulk creation made the fixed request and the fine one shipments')
})

t.test('a Pack whose answer was lost waits in the outbox through a reload and is done once', async (t) => {
  const station = await startStation(t)
  const [orderId] = await station.createShipments(1)
  const { page } = await openPage(station.browser, station.url)
  await logIn(page, AGENT)
  await page.getByRole('button', { name: 'Claim' }).click()
  await page.getByRole('heading', { name: `Order ${orderId}` }).waitFor()

  // The first Pack reaches the API and is done, but its answer is lost to a connection reset, as
  // when an instance goes away mid-answer; every later attempt is reset before it arrives.
  let cut = 0
  await page.route('**/shipments/*/pack', async (route) => {
    if (cut++ === 0) await route.fetch()
    return route.abort('connectionreset')
  })
  await page.getByRole('button', { name: 'Pack', exact: true }).click()
  await page.getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor()
  t.equal(await page.getByRole('alert').count(), 0, 'reconnecting is a status, not an alert')

  await page.reload()
  await page.getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor()
  const before = cut
  t.ok(before >= 2, `the kept Pack is sent again after the reload (${before} attempts cut)`)
  await page.unrouteAll({ behavior: 'wait' })

  await page.getByLabel('Tracking number').waitFor()
  await page
    .getByRole('status')
    .filter({ hasText: `Sent what was waiting: Pack ${orderId}.` })
    .waitFor()
  const shipments = await call<{ items: Array<{ orderId: string; status: string; version: number }> }>(
    station.url,
    station.admin,
    'GET',
    '/shipments?status=PACKED',
  )
  t.match(shipments.items, [{ orderId, status: 'PACKED', version: 2 }], 'packed once: the retry was answered from the store')
  t.equal(await page.getByRole('alert').count(), 0, 'no error shown')
})

t.test('a newer release answering is offered as a reload, never in the middle of a shipment', async (t) => {
  const station = await startStation(t)
  const [orderId] = await station.createShipments(2)
  const { page } = await openPage(station.browser, station.url)
  await logIn(page, AGENT)
  await page.getByRole('button', { name: 'Claim' }).first().waitFor()
  t.equal(await page.locator('meta[name="tms-app-version"]').getAttribute('content'), '0.1.0', 'the page knows its release')
  await page
    .getByRole('listitem')
    .filter({ hasText: `Order ${orderId}` })
    .getByRole('button', { name: 'Claim' })
    .click()
  await page.getByRole('heading', { name: `Order ${orderId}` }).waitFor()

  // From now on the API answers as a newer release would, as during a rolling deploy.
  const shipmentsApi = (url: URL) => url.pathname.startsWith('/shipments')
  await page.route(shipmentsApi, async (route) => {
    const response = await route.fetch()
    await route.fulfill({ response, headers: { ...response.headers(), 'x-app-version': '0.2.0' } })
  })
  await page.getByRole('button', { name: 'Pack', exact: true }).click()
  await page.getByLabel('Tracking number').waitFor()
  t.match(await page.locator('header').textContent(), /API 0\.2\.0/, 'the newer release answered')
  const offer = page.getByRole('region', { name: 'New version' })
  t.equal(await offer.count(), 0, 'no offer while the shipment is open')
  await page.getByLabel('Tracking number').fill('AT-5550001')
  await page.getByRole('button', { name: 'Ship', exact: true }).click()
  await offer.waitFor()
  t.match(await offer.textContent(), /A new version \(0\.2\.0\) is available/, 'offered back at the list')
  // Waits for a handler still fetching: unrouting under it would answer its request twice.
  await page.unrouteAll({ behavior: 'wait' })
  await Promise.all([page.waitForEvent('load'), offer.getByRole('button', { name: 'Reload' }).click()])
  await page.getByRole('heading', { name: 'Pending shipments' }).waitFor()
  t.equal(await page.getByRole('region', { name: 'New version' }).count(), 0, 'after the reload the page is current')
})

t.test('an agent fills a refurbishment batch by scanning devices and a masterbox, packs and ships it', async (t) => {
  const station = await startStation(t)
  const TG5 = { modelNumber: 'TG5', hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE' }
  const device = (deviceId: string, masterboxId: string) => ({ deviceId, ...TG5, innerboxId: `IB-${deviceId}`, masterboxId })
  const partner = { email: 'partner@station.test', password: 'partner password, a long one' }
  await call(station.url, station.admin, 'POST', '/users', { ...partner, roles: ['partner'] })
  await call(station.url, await login(station.url, partner), 'POST', '/devices', {
    devices: [
      device('DEV-0001', 'MB-0001'),
      device('DEV-0002', 'MB-0001'),
      device('DEV-0003', 'MB-0001'),
      device('DEV-0004', 'MB-0002'),
    ],
  })
  // Another partner labelled a box of its own MB-0001 too: the scan must not mix them.
  const other = { email: 'other-partner@station.test', password: 'other partner password, long' }
  await call(station.url, station.admin, 'POST', '/users', { ...other, roles: ['partner'] })
  await call(station.url, await login(station.url, other), 'POST', '/devices', { devices: [device('OTHER-0001', 'MB-0001')] })
  const batch = await call<{ id: string; number: number }>(station.url, station.admin, 'POST', '/refurbishment-batches', {
    description: 'returns of November',
    ...TG5,
  })

  const { page } = await openPage(station.browser, station.url)
  await logIn(page, AGENT)
  await page.getByRole('button', { name: 'Refurbishment batches' }).click()
  await page.getByRole('button', { name: `Open batch #${batch.number}` }).click()
  await page.getByRole('heading', { name: `Batch #${batch.number}` }).waitFor()

  const scan = page.getByLabel('Device', { exact: true })
  t.ok(await scan.evaluate((el) => el === document.activeElement), 'the scan field has the focus')
  await scan.fill('DEV-0001')
  await scan.press('Enter')
  await page
    .getByRole('status')
    .filter({ hasText: `Added 1 device to batch #${batch.number}.` })
    .waitFor()
  await page.getByLabel('Masterbox').fill('MB-0001')
  await page.getByLabel('Masterbox').press('Enter')
  const whose = page.getByRole('group', { name: 'Masterbox MB-0001 holds devices of several partners. Whose box is it?' })
  await whose.waitFor()
  t.equal(await whose.getByRole('button').count(), 2, 'each partner offered')
  await whose.getByRole('button', { name: new RegExp(`^${partner.email.replace('.', '\\.')}, 3 devices$`) }).click()
  await page
    .getByRole('status')
    .filter({ hasText: `Added 2 devices to batch #${batch.number}.` })
    .waitFor()
  const inBatch = page.getByRole('list', { name: 'Devices in the batch' }).getByRole('listitem')
  t.equal(await inBatch.count(), 3, 'the masterbox brought its other two')

  await scan.fill('NOPE-0001')
  await scan.press('Enter')
  const alert = page.getByRole('alert')
  await alert.waitFor()
  t.match(await alert.textContent(), /NOPE-0001: unknown device/, `a rejected scan says why: "${await alert.textContent()}"`)

  await page.getByRole('button', { name: 'Remove DEV-0002' }).click()
  await page.getByRole('status').filter({ hasText: 'Removed DEV-0002; it is in stock again.' }).waitFor()
  t.equal(await inBatch.count(), 2)
  await page.screenshot({ path: screenshotPath('refurbishment-batch'), fullPage: true })

  await page.getByRole('button', { name: 'Pack for refurbishment' }).click()
  const tracking = page.getByLabel('Tracking number')
  await tracking.waitFor()
  await tracking.fill('AT-BATCH-0001')
  await tracking.press('Enter')
  await page
    .getByRole('status')
    .filter({ hasText: `Shipped batch #${batch.number} with AT-BATCH-0001.` })
    .waitFor()
  await page.getByRole('heading', { name: 'Refurbishment batches' }).waitFor()
  const shipped = await call<{ batch: { status: string; trackingNumber: string; deviceCount: number } }>(
    station.url,
    station.admin,
    'GET',
    `/refurbishment-batches/${batch.id}`,
  )
  t.match(
    shipped.batch,
    { status: 'SHIPPED', trackingNumber: 'AT-BATCH-0001', deviceCount: 2 },
    'shipped with the two left in it',
  )
})

t.test('a session that really ended takes the agent to the login; the Pack waits and is done after it', async (t) => {
  const station = await startStation(t)
  const [orderId] = await station.createShipments(1)
  const { page } = await openPage(station.browser, station.url)
  await logIn(page, AGENT)
  await page.getByRole('button', { name: 'Claim' }).click()
  await page.getByRole('heading', { name: `Order ${orderId}` }).waitFor()

  // An admin resets the agent's password: every session of theirs ends at once.
  const users = await call<{ items: Array<{ id: string; email: string }> }>(station.url, station.admin, 'GET', '/users')
  const agentId = users.items.find((u) => u.email === AGENT.email)!.id
  const newPassword = 'a new password for the agent'
  await call(station.url, station.admin, 'POST', `/users/${agentId}/password`, { password: newPassword })

  await page.getByRole('button', { name: 'Pack', exact: true }).click()
  await page.getByRole('alert').filter({ hasText: 'Your session ended. Log in again; what you were doing is kept.' }).waitFor()
  t.equal(await page.getByRole('button', { name: 'Log in' }).count(), 1, 'at the login')
  await logIn(page, { email: AGENT.email, password: newPassword })
  await page
    .getByRole('status')
    .filter({ hasText: `Sent what was waiting: Pack ${orderId}.` })
    .waitFor()
  await page.getByLabel('Tracking number').waitFor()
  t.pass('back on the shipment, packed: nothing to do again')
  const packed = await call<{ items: Array<{ orderId: string; version: number }> }>(
    station.url,
    station.admin,
    'GET',
    '/shipments?status=PACKED',
  )
  t.match(packed.items, [{ orderId, version: 2 }], 'packed once, after the login')
})
