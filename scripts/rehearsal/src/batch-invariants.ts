import type { Reply } from './http-client.js'
import { inBatches } from './in-batches.js'
import { type BatchWithDevices, type Check, first, n } from './invariant-model.js'

/** The refurbishment batches' invariants, judged on every batch as the API lists it after the load. */

export const noDeviceInTwoBatches: Check = ({ batches, ledger }) => {
  const seen = new Map<string, number>()
  const twice: string[] = []
  for (const { batch, devices } of batches) {
    for (const device of devices) {
      const other = seen.get(device.deviceId)
      if (other !== undefined) twice.push(`${device.deviceId} in batches #${other} and #${batch.number}`)
      seen.set(device.deviceId, batch.number)
    }
  }
  const miscounted = batches.filter((b) => b.batch.deviceCount !== b.devices.length)
  return {
    id: 'batch-devices',
    name: 'no device in two batches',
    held: twice.length === 0 && miscounted.length === 0,
    violations: twice.length + miscounted.length,
    measured: `${n(seen.size)} devices in ${n(batches.length)} batches (${n(ledger.registeredDevices)} registered by partners in the run); ${n(twice.length)} in two; ${n(miscounted.length)} batches miscounted`,
    details: first([
      ...twice,
      ...miscounted.map((b) => `batch #${b.batch.number} counts ${b.batch.deviceCount}, holds ${b.devices.length}`),
    ]),
  }
}

export const noBatchShippedWithoutItsDevices: Check = ({ batches, ledger }) => {
  const shipped = batches.filter((b) => b.batch.status === 'SHIPPED')
  const behind = shipped.flatMap(({ batch, devices }) =>
    devices
      .filter((d) => d.trackingNumber !== batch.trackingNumber)
      .map((d) => `${d.deviceId} of #${batch.number}: ${d.trackingNumber}`),
  )
  const lost = [...ledger.shippedBatches].filter(([id, tracking]) => {
    const found = batches.find((b) => b.batch.id === id)
    return found?.batch.status !== 'SHIPPED' || found.batch.trackingNumber !== tracking
  })
  return {
    id: 'batch-shipped',
    name: 'no batch shipped with a device not shipped',
    held: behind.length === 0 && lost.length === 0,
    violations: behind.length + lost.length,
    measured: `${n(shipped.length)} batches shipped (${n(ledger.shippedBatches.size)} acknowledged to the load), ${n(shipped.reduce((sum, b) => sum + b.devices.length, 0))} devices in them; ${n(behind.length)} devices behind their batch`,
    details: first([
      ...behind,
      ...lost.map(([id, tracking]) => `batch ${id} acknowledged shipped as ${tracking}, not stored so`),
    ]),
  }
}

export const batchNumbersWithoutGaps: Check = ({ batches, ledger }) => {
  const numbers = batches.map((b) => b.batch.number).sort((a, b) => a - b)
  const duplicates = numbers.filter((number, i) => numbers[i - 1] === number)
  const gaps = numbers.filter((number, i) => i > 0 && number - numbers[i - 1]! > 1).map((number) => `before #${number}`)
  const missing = [...ledger.createdBatches].filter((id) => !batches.some((b) => b.batch.id === id))
  return {
    id: 'batch-numbers',
    name: 'batch numbers unique and without gaps',
    held: duplicates.length === 0 && gaps.length === 0 && missing.length === 0,
    violations: duplicates.length + gaps.length + missing.length,
    measured: numbers.length
      ? `#${numbers[0]} to #${numbers.at(-1)}: ${n(numbers.length)} batches (${n(ledger.createdBatches.size)} made in the run), ${duplicates.length} numbers twice, ${gaps.length} gaps`
      : 'no batches',
    details: first([
      ...duplicates.map((d) => `#${d} twice`),
      ...gaps.map((g) => `a gap ${g}`),
      ...missing.map((id) => `batch ${id} acknowledged, not listed`),
    ]),
  }
}

/** Every batch, newest first, with every device in it (pages of 200); none where the API has no batches. */
export async function readBatches(get: (path: string) => Promise<Reply>): Promise<BatchWithDevices[]> {
  const batches: BatchWithDevices['batch'][] = []
  let cursor: string | null = null
  do {
    const page = await get(`/refurbishment-batches?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
    if (page.status !== 200) return []
    const body = page.body as { items: BatchWithDevices['batch'][]; nextCursor: string | null }
    batches.push(...body.items)
    cursor = body.nextCursor
  } while (cursor)
  const result: BatchWithDevices[] = []
  await inBatches(batches, 8, async (batch) => {
    const devices: BatchWithDevices['devices'] = []
    let after: string | null = null
    do {
      const page = await get(`/refurbishment-batches/${batch.id}/devices?limit=200${after ? `&cursor=${after}` : ''}`)
      const body = page.body as { items: BatchWithDevices['devices']; nextCursor: string | null }
      devices.push(...(body.items ?? []))
      after = body.nextCursor ?? null
    } while (after)
    result.push({ batch, devices })
  })
  return result
}
