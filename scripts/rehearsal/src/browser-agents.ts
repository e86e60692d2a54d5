import { setTimeout as sleep } from 'node:timers/promises'
import { chromiumLaunchOptions } from '@tms/config'
import { type Browser, chromium, type Page } from 'playwright-core'
import type { HttpClient } from './http-client.js'

/** What the people at the browser packing stations did and saw during a run. */
export interface BrowserAgentsResult {
  agents: number
  /** Shipments each agent shipped through the web app, with the tracking number it typed. */
  shipped: Array<{ agent: string; shipmentId: string; orderId: string; trackingNumber: string }>
  /** Page loads (the first, a reload now and then, a reload offered by a new version). */
  pageLoads: number
  /** Reloads the page offered because a newer version answered, and the agent accepted. */
  newVersionReloads: number
  /** Alerts a person had to read: every one counts against the run... */
  alerts: string[]
  /** ...except another agent taking the same shipment first, which is the warehouse, not the deploy. */
  contention: string[]
  /** Requests of the page itself (document, script, style, image) that failed or were not 2xx. */
  failedAssets: string[]
  /** Times the login form came back after the agent had logged in. */
  logouts: number
  /** Times "Reconnecting…" was on screen (retries the person was told about, not errors). */
  reconnecting: number
  /** App versions the pages saw answering. */
  versions: string[]
}

const ASSET_TYPES = new Set(['document', 'script', 'stylesheet', 'image', 'font'])
/** Answers the web app retries by itself (apps/web/src/api.ts). */
const RETRIED = new Set([502, 503, 504])
/** A refusal because someone else was quicker: the warehouse at work, not the deploy. */
const CONTENTION = /claimed by another agent|not pending|no longer pending|packed by another|WRONG_STATUS|is shipped/i
/** A reload now and then at a quiet moment (the list), so page loads cross the deploy too. */
const RELOAD_EVERY = 8
const STEP_TIMEOUT_MS = 60_000

/**
 * Runs in each page (as a string: this package is not compiled for the browser): reports to
 * `tmsSaw` every new text of an alert or status, and the login form coming back after a login.
 */
const WATCH_THE_SCREEN = `
  const seen = new WeakMap()
  let loggedIn = false
  new MutationObserver(() => {
    for (const element of document.querySelectorAll('[role="alert"], [role="status"]')) {
      const text = element.textContent || ''
      if (text && seen.get(element) !== text) window.tmsSaw(element.getAttribute('role'), text)
      seen.set(element, text)
    }
    if (document.querySelector('header .who')) loggedIn = true
    if (loggedIn && document.querySelector('form[aria-label="Log in"]')) {
      loggedIn = false
      window.tmsSaw('login', '')
    }
  }).observe(document, { subtree: true, childList: true, characterData: true })
`

/**
 * N warehouse agents at browser packing stations (Chromium driving the web app through the load
 * balancer), each in a loop: claim a pending shipment, pack it, type the tracking number, ship,
 * back at the list. They run beside the HTTP load and through the deploys, and record what a
 * person would notice: alerts, failed page loads, being logged out.
 */
export class BrowserAgents {
  readonly #url: string
  readonly #count: number
  readonly #runId: string
  readonly #log: (line: string) => void
  #browser: Browser | undefined
  #running = false
  #loops: Array<Promise<void>> = []
  readonly result: BrowserAgentsResult

  constructor(options: { url: string; count: number; runId: string; log: (line: string) => void }) {
    this.#url = options.url
    this.#count = options.count
    this.#runId = options.runId
    this.#log = options.log
    this.result = {
      agents: options.count,
      shipped: [],
      pageLoads: 0,
      newVersionReloads: 0,
      alerts: [],
      contention: [],
      failedAssets: [],
      logouts: 0,
      reconnecting: 0,
      versions: [],
    }
  }

  /** Creates the agents' users (as the admin), opens a page each and logs in. */
  async prepare(client: HttpClient, adminCookie: string): Promise<void> {
    this.#browser = await chromium.launch(chromiumLaunchOptions())
    const pages: Array<{ name: string; page: Page }> = []
    for (let i = 1; i <= this.#count; i++) {
      const email = `browser-${i}-${this.#runId}@rehearsal.local`
      const password = `browser agent ${i} of ${this.#runId}`
      const created = await client.send({
        method: 'POST',
        path: '/users',
        cookie: adminCookie,
        body: { email, password, roles: ['agent'] },
      })
      if (created.status !== 201) throw new Error(`creating the browser agent ${email} failed: ${created.status}`)
      const page = await this.#openPage(`browser-${i}`)
      await page.getByLabel('Email').fill(email)
      await page.getByLabel('Password').fill(password)
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.getByRole('heading', { name: 'Pending shipments' }).waitFor({ timeout: STEP_TIMEOUT_MS })
      pages.push({ name: `browser-${i}`, page })
    }
    this.#running = true
    this.#loops = pages.map(({ name, page }) => this.#work(name, page))
  }

  /** Lets each agent finish the shipment in hand, then closes the browser. */
  async stop(): Promise<BrowserAgentsResult> {
    this.#running = false
    await Promise.all(this.#loops)
    const browser = this.#browser
    this.#browser = undefined
    await browser?.close()
    this.result.versions.sort()
    return this.result
  }

  async #openPage(name: string): Promise<Page> {
    const context = await this.#browser!.newContext({ viewport: { width: 1024, height: 720 } })
    const page = await context.newPage()
    page.on('requestfailed', (request) => {
      if (ASSET_TYPES.has(request.resourceType())) {
        this.result.failedAssets.push(`${name}: ${request.url()} ${request.failure()?.errorText ?? ''}`)
      }
    })
    page.on('response', (response) => {
      const version = response.headers()['x-app-version']
      if (version && !this.result.versions.includes(version)) this.result.versions.push(version)
      if (ASSET_TYPES.has(response.request().resourceType()) && response.status() >= 400) {
        this.result.failedAssets.push(`${name}: ${response.url()} ${response.status()}`)
      }
    })
    // What a person reads: every alert and every "Reconnecting…", as the page shows them.
    await page.exposeFunction('tmsSaw', (kind: string, text: string) => {
      if (kind === 'alert') {
        if (CONTENTION.test(text)) this.result.contention.push(`${name}: ${text}`)
        else this.result.alerts.push(`${name}: ${text}`)
      } else if (kind === 'status' && text.startsWith('Reconnecting')) this.result.reconnecting++
      else if (kind === 'login') this.result.logouts++
    })
    await page.addInitScript({ content: WATCH_THE_SCREEN })
    await page.goto(this.#url)
    this.result.pageLoads++
    return page
  }

  async #work(name: string, page: Page): Promise<void> {
    let cycle = 0
    while (this.#running) {
      try {
        cycle++
        if (await this.#acceptNewVersion(page)) continue
        if (cycle % RELOAD_EVERY === 0) {
          await page.reload()
          this.result.pageLoads++
          await page.getByRole('heading', { name: 'Pending shipments' }).waitFor({ timeout: STEP_TIMEOUT_MS })
        }
        await this.#shipOne(name, page, cycle)
      } catch (error) {
        if (!this.#running) break
        this.result.alerts.push(`${name}: the agent got stuck: ${(error as Error).message.split('\n')[0]}`)
        await page.goto(this.#url).catch(() => undefined)
        this.result.pageLoads++
      }
    }
  }

  /** A newer version answered and the page offers a reload at a quiet moment: the agent takes it. */
  async #acceptNewVersion(page: Page): Promise<boolean> {
    const reload = page.getByRole('region', { name: 'New version' }).getByRole('button', { name: 'Reload' })
    if ((await reload.count()) === 0) return false
    await Promise.all([page.waitForEvent('load'), reload.click()])
    this.result.pageLoads++
    this.result.newVersionReloads++
    await page.getByRole('heading', { name: 'Pending shipments' }).waitFor({ timeout: STEP_TIMEOUT_MS })
    return true
  }

  async #shipOne(name: string, page: Page, cycle: number): Promise<void> {
    // Not at the list (a step of the last cycle timed out): back to it, releasing what is open.
    const back = page.getByRole('button', { name: /^Back to the list/ })
    if ((await back.count()) > 0) {
      await back.click()
      await page.getByRole('heading', { name: 'Pending shipments' }).waitFor({ timeout: STEP_TIMEOUT_MS })
    }
    const offered = page.getByRole('list', { name: 'Pending shipments' }).getByRole('listitem')
    if ((await offered.count()) === 0) {
      await sleep(250)
      return
    }
    // Not always the first: several stations would otherwise all reach for the same one.
    const item = offered.nth(Math.floor(Math.random() * Math.min(3, await offered.count())))
    const orderId = ((await item.locator('strong').textContent()) ?? '').replace('Order ', '')
    // The claim's final answer: the app itself retries a 502/503/504 until there is one.
    const claimed = page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().endsWith('/claim') && !RETRIED.has(r.status()),
      { timeout: STEP_TIMEOUT_MS },
    )
    await item.getByRole('button', { name: 'Claim' }).click()
    // Another station was quicker: the page says so (an alert, recorded) and the agent takes the next.
    if ((await claimed).status() !== 200) return
    await page.getByRole('heading', { name: `Order ${orderId}` }).waitFor({ timeout: STEP_TIMEOUT_MS })
    await page.getByRole('button', { name: 'Pack', exact: true }).click()
    const tracking = page.getByLabel('Tracking number')
    await tracking.waitFor({ timeout: STEP_TIMEOUT_MS })
    const trackingNumber = `BR-${this.#runId.slice(-6)}-${name.slice(8)}-${cycle}`
    await tracking.fill(trackingNumber)
    const ship = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/ship'), { timeout: STEP_TIMEOUT_MS })
    await tracking.press('Enter')
    const shipmentId = new URL((await ship).url()).pathname.split('/')[2]!
    await page
      .getByRole('status')
      .filter({ hasText: `Shipped order ${orderId} with ${trackingNumber}.` })
      .waitFor({ timeout: STEP_TIMEOUT_MS })
    this.result.shipped.push({ agent: name, shipmentId, orderId, trackingNumber })
  }
}
