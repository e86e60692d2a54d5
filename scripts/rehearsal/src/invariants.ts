import { setTimeout as sleep } from 'node:timers/promises'
import { checkTicks } from '@tms/jobs'
import {
  batchNumbersWithoutGaps,
  noBatchShippedWithoutItsDevices,
  noDeviceInTwoBatches,
  readBatches,
} from './batch-invariants.js'
import type { Reply } from './http-client.js'
import { inBatches } from './in-batches.js'
import { type Check, type CheckContext, first, type Invariant, type InvariantInput, n } from './invariant-model.js'

interface ShipmentView {
  status: string
  packedBy: string | null
  trackingNumber: string | null
  shopNotifiedAt: string | null
}

const viewOf = (context: CheckContext, id: string) => context.shipments.get(id)?.body as ShipmentView | undefined

export const everyRequestAnswered: Check = ({ records }) => {
  const failed = records.filter((r) => r.outcome === 'failed')
  const expected = records.filter((r) => r.outcome === 'expected').length
  return {
    id: 'answered',
    name: 'every request answered',
    held: records.length > 0 && failed.length === 0,
    violations: failed.length,
    measured: `${n(records.length - failed.length - expected)} 2xx + ${n(expected)} expected business answers of ${n(records.length)}; ${n(failed.length)} failed`,
    details: first(failed.map((r) => `+${(r.sentAt / 1000).toFixed(1)}s ${r.route} -> ${r.note ?? r.status}`)),
  }
}

const noSessionLost: Check = async ({ sessions, records, ledger, get, log }) => {
  log('checking sessions')
  const alive = await Promise.all(
    sessions.map(async (s) => (s.cookie ? (await get('/auth/me', s.cookie)).status === 200 : false)),
  )
  const authenticated = records.filter((r) => r.authenticated).length
  const losses = ledger.sessionLosses
  return {
    id: 'sessions',
    name: 'no logged-in user lost their session',
    held: losses.length === 0 && alive.every(Boolean),
    violations: losses.length + alive.filter((a) => !a).length,
    measured: `${n(losses.length)} 401s on ${n(authenticated)} requests with a session; ${alive.filter(Boolean).length}/${alive.length} sessions alive afterwards`,
    details: first(losses.map((l) => `+${(l.at / 1000).toFixed(1)}s ${l.email} ${l.route} (${l.instance ?? 'no instance'})`)),
  }
}

export const noShipmentPackedTwice: Check = (context) => {
  const { ledger } = context
  const twice = [...ledger.packs].filter(([, agents]) => agents.length > 1)
  const wrongPacker = [...ledger.packs].filter(([id, agents]) => viewOf(context, id)?.packedBy !== agents[0])
  return {
    id: 'packs',
    name: 'no shipment packed twice',
    held: twice.length === 0 && ledger.doubleClaims.length === 0 && wrongPacker.length === 0,
    violations: twice.length + ledger.doubleClaims.length + wrongPacker.length,
    measured: `${n(ledger.packs.size)} shipments packed, ${n(twice.length)} of them twice; ${n(ledger.doubleClaims.length)} claimed by two agents at once; ${n(wrongPacker.length)} recorded with another packer`,
    details: first([
      ...twice.map(([id, agents]) => `${id} packed by ${agents.join(', ')}`),
      ...ledger.doubleClaims.map((c) => `${c.shipmentId} claimed by ${c.holders.join(' and ')}`),
      ...wrongPacker.map(([id, agents]) => `${id}: we packed as ${agents[0]}, stored ${viewOf(context, id)?.packedBy}`),
    ]),
  }
}

const everyWriteReadable: Check = async (context) => {
  const { ledger, get } = context
  const lost: string[] = []
  const requests = [...ledger.createdRequests]
  await inBatches(requests, 16, async ([id, orderId]) => {
    const reply = await get(`/shipment-requests/${id}`)
    if (reply.status !== 200 || (reply.body as { orderId?: string }).orderId !== orderId) {
      lost.push(`shipment request ${id} (${orderId}): ${reply.status}`)
    }
  })
  for (const [id, agents] of ledger.packs) {
    const view = viewOf(context, id)
    if (!view || !['PACKED', 'SHIPPED'].includes(view.status)) lost.push(`pack of ${id} by ${agents[0]}: now ${view?.status}`)
  }
  for (const [id, trackingNumber] of ledger.shipped) {
    const view = viewOf(context, id)
    if (view?.status !== 'SHIPPED' || view.trackingNumber !== trackingNumber) {
      lost.push(`shipping ${id} as ${trackingNumber}: now ${view?.status} ${view?.trackingNumber}`)
    }
  }
  return {
    id: 'writes',
    name: 'every acknowledged write is readable',
    held: lost.length === 0,
    violations: lost.length,
    measured: `${n(requests.length)} shipment requests, ${n(ledger.packs.size)} packs, ${n(ledger.shipped.size)} shipments shipped read back; ${n(lost.length)} missing`,
    details: first(lost),
  }
}

/** The shop is told by a worker after the fact: waits up to 30 s for the last ones. */
const everyShippedOrderNotified: Check = async (context) => {
  const { ledger, get, log } = context
  log('waiting for the shop to hear of every shipped order')
  let unheard = [...ledger.shipped.keys()].filter((id) => !viewOf(context, id)?.shopNotifiedAt)
  for (let round = 0; round < 30 && unheard.length > 0; round++) {
    await sleep(1000)
    const still: string[] = []
    await inBatches(unheard, 16, async (id) => {
      const view = (await get(`/shipments/${id}`)).body as ShipmentView | undefined
      if (!view?.shopNotifiedAt) still.push(id)
    })
    unheard = still
  }
  return {
    id: 'shop',
    name: 'every shipped order reached the shop',
    held: unheard.length === 0,
    violations: unheard.length,
    measured: `${n(ledger.shipped.size - unheard.length)} of ${n(ledger.shipped.size)} shipped orders notified (notify-shipped)`,
    details: first(unheard.map((id) => `${id} not notified 30 s after the load`)),
  }
}

export const everyDeployFinished: Check = ({ deploys, loadStartedAt, loadEndedAt, loadPlannedMs }) => {
  const late = deploys.filter((d) => d.error || d.to === null || d.to > loadEndedAt)
  const seconds = (at: number) => `${((at - loadStartedAt) / 1000).toFixed(1)}s`
  const extended =
    loadEndedAt - loadStartedAt > loadPlannedMs
      ? `; the load ran ${((loadEndedAt - loadStartedAt) / 1000).toFixed(1)} s, past the planned ${loadPlannedMs / 1000} s, until the deploys were done`
      : ''
  return {
    id: 'deploys',
    name: 'every deploy finished while the load ran',
    held: deploys.length > 0 && late.length === 0,
    violations: late.length + (deploys.length === 0 ? 1 : 0),
    measured: deploys.map((d) => `${d.app} ${seconds(d.from)} -> ${d.to ? seconds(d.to) : 'unfinished'}`).join('; ') + extended,
    details: late.map(
      (d) => `${d.app}: ${d.error ?? 'still deploying at twice --duration, when the load stopped: raise --duration'}`,
    ),
  }
}

/** Judged only with a bar (--max-latency-ratio); the figures are in the report either way. */
export const latencyWithinBar: Check = ({ latency, maxLatencyRatio }) => {
  if (maxLatencyRatio === null) return null
  const { steady, deploy, ratio, warmUpMs, setAside } = latency
  const held = deploy.requests > 0 && ratio <= maxLatencyRatio
  const aside = setAside.requests
    ? `; set aside, caught by ${setAside.stalls} database commit stalls (longest ${setAside.longestStallMs.toFixed(0)} ms): ${n(setAside.steady)} steady, ${n(setAside.deploy)} during deploys`
    : ''
  return {
    id: 'latency',
    name: `p99 latency during the deploy at most ${maxLatencyRatio}x steady state`,
    held,
    violations: held ? 0 : 1,
    measured: `steady p99 ${steady.p99.toFixed(1)} ms (${n(steady.requests)} requests outside deploys, after a ${warmUpMs / 1000} s warm-up), during deploys ${deploy.p99.toFixed(1)} ms (${n(deploy.requests)} requests): ${ratio.toFixed(2)}x${aside}`,
  }
}

/** In the order the report lists them. */
/**
 * The people at browser packing stations noticed nothing: every shipment they shipped is
 * SHIPPED with the number they typed, each step done once (read back by its version); no error
 * shown to them (another agent being quicker aside), no page or asset load failed, nobody was
 * logged out.
 */
export const browserAgentsNoticedNothing: Check = async ({ browser, get }) => {
  if (!browser) return null
  const lost: string[] = []
  const twice: string[] = []
  await inBatches(browser.shipped, 16, async (shipped) => {
    const reply = await get(`/shipments/${shipped.shipmentId}`)
    const view = reply.body as (ShipmentView & { version: number }) | undefined
    if (reply.status !== 200 || view?.status !== 'SHIPPED' || view.trackingNumber !== shipped.trackingNumber) {
      lost.push(
        `${shipped.agent} shipped ${shipped.orderId} (${shipped.trackingNumber}); the API has ${reply.status} ${view?.status} ${view?.trackingNumber}`,
      )
    } else {
      // Created, packed, shipped: version 3; the worker's note that the shop heard of it makes 4.
      const expected = view.shopNotifiedAt ? 4 : 3
      if (view.version !== expected) twice.push(`${shipped.orderId}: version ${view.version}, not ${expected}`)
    }
  })
  const offences = lost.length + twice.length + browser.alerts.length + browser.failedAssets.length + browser.logouts
  const noShipments = browser.shipped.length === 0 ? ['the browser agents shipped nothing'] : []
  return {
    id: 'browser',
    name: 'people at browser packing stations noticed nothing',
    held: offences === 0 && noShipments.length === 0,
    violations: offences + noShipments.length,
    measured: `${n(browser.agents)} browser agents shipped ${n(browser.shipped.length)} shipments over ${n(browser.pageLoads)} page loads (${n(browser.newVersionReloads)} offered by a new version; versions ${browser.versions.join(', ')}); ${n(lost.length)} lost, ${n(twice.length)} done twice, ${n(browser.alerts.length)} errors shown, ${n(browser.failedAssets.length)} failed page or asset loads, ${n(browser.logouts)} logouts; "Reconnecting…" shown ${n(browser.reconnecting)} times, ${n(browser.contention.length)} claims another agent took first`,
    details: first([
      ...noShipments,
      ...lost,
      ...twice,
      ...browser.alerts,
      ...browser.failedAssets,
      ...(browser.logouts ? [`${browser.logouts} logouts`] : []),
    ]),
  }
}

const CHECKS: Check[] = [
  everyRequestAnswered,
  noSessionLost,
  noShipmentPackedTwice,
  everyWriteReadable,
  everyShippedOrderNotified,
  (context) => everyTickOnce(context, context.get),
  noDeviceInTwoBatches,
  noBatchShippedWithoutItsDevices,
  batchNumbersWithoutGaps,
  everyDeployFinished,
  latencyWithinBar,
  browserAgentsNoticedNothing,
]

/** After the load: what must hold for a deploy to count as one nobody noticed, one check each. */
export async function checkInvariants(input: InvariantInput): Promise<Invariant[]> {
  const { client, adminCookie, ledger, log } = input
  const get = (path: string, cookie = adminCookie) => client.send({ method: 'GET', path, cookie })
  log('reading back every acknowledged write')
  const shipments = new Map<string, Reply>()
  await inBatches([...new Set([...ledger.packs.keys(), ...ledger.shipped.keys()])], 16, async (id) => {
    shipments.set(id, await get(`/shipments/${id}`))
  })
  log('reading back every refurbishment batch and its devices')
  const context: CheckContext = { ...input, get, shipments, batches: await readBatches(get) }
  const invariants: Invariant[] = []
  for (const check of CHECKS) {
    const invariant = await check(context)
    if (invariant) invariants.push(invariant)
  }
  return invariants
}

/**
 * Every schedule's ticks while the load ran: each exactly once, none missing. The intervals
 * come from the API (GET /admin/jobs), so this works against any environment.
 */
async function everyTickOnce(input: InvariantInput, get: (path: string) => Promise<Reply>): Promise<Invariant> {
  const jobs = await get('/admin/jobs')
  const schedules = ((jobs.body as { items?: Array<{ id: string; every: number | null }> })?.items ?? []).filter(
    (s) => s.every !== null,
  )
  // Long enough after the load for the last tick inside it to have been recorded.
  const longest = Math.max(0, ...schedules.map((s) => s.every!))
  const wait = input.loadEndedAt + Math.min(longest, 30_000) + 2000 - Date.now()
  if (wait > 0) await sleep(wait)
  const lines: string[] = []
  const details: string[] = []
  let held = jobs.status === 200 && schedules.length > 0
  let violations = 0
  for (const schedule of schedules) {
    const every = schedule.every!
    const runs = await get(`/admin/jobs/${schedule.id}/runs?limit=500`)
    const items = (runs.body as { items?: Parameters<typeof checkTicks>[0] })?.items ?? []
    // Whole intervals inside the load only: a tick at the very edge may belong to either side.
    const report = checkTicks(items, every, input.loadStartedAt + every, input.loadEndedAt - every)
    const missed = report.gaps.reduce((sum, g) => sum + g.missing, 0) + report.missingAtEdges.start + report.missingAtEdges.end
    const expected = Math.floor((input.loadEndedAt - input.loadStartedAt) / every) - 2
    if (expected < 1) {
      lines.push(`${schedule.id}: every ${every / 1000} s is too slow to check in this run`)
      continue
    }
    if (report.duplicates.length > 0 || missed > 0 || report.ticks === 0) held = false
    violations += report.duplicates.length + missed
    lines.push(
      `${schedule.id}: ${report.ticks} tick${report.ticks === 1 ? '' : 's'} on ${report.instances.length} workers, ${report.duplicates.length} twice, ${missed} missed`,
    )
    details.push(...report.duplicates.map((tick) => `${schedule.id} tick ${tick} ran twice`))
    details.push(...report.gaps.map((g) => `${schedule.id}: ${g.missing} missing after ${g.after}`))
  }
  return {
    id: 'ticks',
    name: 'every job tick ran exactly once',
    held,
    violations,
    measured: lines.join('; '),
    details: first(details),
  }
}
