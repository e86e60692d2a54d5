import t from 'tap'
import { RESOLUTION, refine, searchRates } from '../src/rate-search.js'

/** A cluster whose capacity is `capacity`/s: a step meets the bar at or below it, except the misses listed. */
function cluster(capacity: number, misses: number[] = []) {
  const tried: number[] = []
  const retried: number[] = []
  const measure = async (rate: number) => {
    tried.push(rate)
    const miss = misses.indexOf(rate)
    if (miss >= 0) {
      misses.splice(miss, 1)
      return false
    }
    return rate <= capacity
  }
  return { tried, retried, measure, onRetry: (rate: number) => retried.push(rate) }
}

t.test('refine halves the gap between the last rate within capacity and the first past it', async (t) => {
  t.equal(refine(400, 500), 450)
  t.equal(refine(400, 450), 425)
  t.equal(refine(425, 450), null, `${RESOLUTION}/s apart: fine enough`)
  t.equal(refine(100, 200), 150)
  t.equal(refine(null, 100), null, 'the first rate already past capacity: nothing below to search')
  t.equal(refine(1000, null), null, 'never past capacity: nothing above to search')
})

t.test('a capacity of 437/s: steps up to 500/s, then 450/s and 425/s; each miss is tried once more', async (t) => {
  const c = cluster(437)
  t.same(await searchRates([300, 400, 500, 600], c.measure, c.onRetry), { lastPass: 425, firstFail: 450 })
  t.same(c.tried, [300, 400, 500, 500, 450, 450, 425], 'no step above the first rate past capacity')
  t.same(c.retried, [500, 450])
})

t.test('one miss far below capacity does not end the search', async (t) => {
  const c = cluster(437, [300])
  t.same(await searchRates([300, 400, 500], c.measure, c.onRetry), { lastPass: 425, firstFail: 450 })
  t.same(c.tried.slice(0, 3), [300, 300, 400], 'the missed step is measured again and passes')
})

t.test('the first rate past capacity: nothing within, nothing to refine', async (t) => {
  const c = cluster(100)
  t.same(await searchRates([300, 400], c.measure), { lastPass: null, firstFail: 300 })
  t.same(c.tried, [300, 300])
})

t.test('every rate within capacity: no rate past it, nothing to refine', async (t) => {
  const c = cluster(10_000)
  t.same(await searchRates([300, 400], c.measure), { lastPass: 400, firstFail: null })
  t.same(c.tried, [300, 400])
})
