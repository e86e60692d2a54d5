import { percentile } from '../machine.js'
import { send } from './http.js'

const TG5 = { modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE' }

/** Registers `boxes` masterboxes of 1,000 devices (or one of `small`) and puts them in a new batch. */
async function fillBatch(base: string, partner: string, agent: string, name: string, boxes: number, perBox: number) {
  for (let box = 0; box < boxes; box++) {
    const masterboxId = `MB-${name}-${String(box).padStart(3, '0')}`
    const devices = Array.from({ length: perBox }, (_, i) => ({
      deviceId: `${name}-${String(box * perBox + i).padStart(6, '0')}`,
      ...TG5,
      innerboxId: `IB-${name}-${box}-${Math.floor(i / 10)}`,
      masterboxId,
    }))
    const registered = await send(base, '127.0.5.1', 'POST', '/devices', { body: JSON.stringify({ devices }), cookie: partner })
    if (registered.status !== 200) throw new Error(`registration: ${registered.status} ${registered.body.slice(0, 200)}`)
  }
  const batch = await send(base, '127.0.5.2', 'POST', '/refurbishment-batches', {
    body: JSON.stringify({ description: `${boxes * perBox} devices`, ...TG5 }),
    cookie: agent,
  })
  const { id } = JSON.parse(batch.body) as { id: string }
  for (let box = 0; box < boxes; box++) {
    const added = await send(base, '127.0.5.2', 'POST', `/refurbishment-batches/${id}/devices`, {
      body: JSON.stringify({ masterboxId: `MB-${name}-${String(box).padStart(3, '0')}` }),
      cookie: agent,
    })
    if (added.status !== 200) throw new Error(`add: ${added.status} ${added.body.slice(0, 200)}`)
  }
  return id
}

export interface PagingResult {
  big: { devices: number; pages: number; p50: number; p99: number; searchMs: number }
  small: { devices: number; requests: number; p50: number; p99: number }
}

/**
 * A batch of 20,000 devices listed page by page (50 a page, every page once, by its cursor),
 * beside a batch of 20 whose one page is asked as often: a page of the big batch should cost
 * what a page of the small one does.
 */
export async function bigBatchPaging(base: string, partner: string, agent: string): Promise<PagingResult> {
  const big = await fillBatch(base, partner, agent, 'BIG', 20, 1000)
  const small = await fillBatch(base, partner, agent, 'SMALL', 1, 20)
  const bigTimes: number[] = []
  const smallTimes: number[] = []
  let cursor: string | null = null
  let devices = 0
  do {
    const page = await send(
      base,
      '127.0.5.3',
      'GET',
      `/refurbishment-batches/${big}/devices?limit=50${cursor ? `&cursor=${cursor}` : ''}`,
      {
        cookie: agent,
      },
    )
    bigTimes.push(page.ms)
    const body = JSON.parse(page.body) as { items: unknown[]; nextCursor: string | null }
    devices += body.items.length
    cursor = body.nextCursor
    const one = await send(base, '127.0.5.3', 'GET', `/refurbishment-batches/${small}/devices?limit=50`, { cookie: agent })
    smallTimes.push(one.ms)
  } while (cursor)
  const search = await send(base, '127.0.5.3', 'GET', `/refurbishment-batches/${big}/devices?q=BIG-0199&limit=50`, {
    cookie: agent,
  })
  return {
    big: { devices, pages: bigTimes.length, p50: percentile(bigTimes, 50), p99: percentile(bigTimes, 99), searchMs: search.ms },
    small: { devices: 20, requests: smallTimes.length, p50: percentile(smallTimes, 50), p99: percentile(smallTimes, 99) },
  }
}
