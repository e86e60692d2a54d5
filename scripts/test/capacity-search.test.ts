import t from 'tap'
import { RESOLUTION, refine } from '../src/capacity/search.js'

t.test('refine halves the gap between the last rate within capacity and the first past it', async (t) => {
  t.equal(refine(400, 500), 450)
  t.equal(refine(400, 450), 425)
  t.equal(refine(425, 450), null, `${RESOLUTION}/s apart: fine enough`)
  t.equal(refine(100, 200), 150)
  t.equal(refine(null, 100), null, 'the first rate already past capacity: nothing below to search')
  t.equal(refine(1000, null), null, 'never past capacity: nothing above to search')
})

t.test('a search of the steps a capacity of 437/s would give ends at 425/s in two steps', async (t) => {
  const capacity = 437
  let lastPass: number | null = 400
  let firstFail: number | null = 500
  const tried: number[] = []
  for (let mid = refine(lastPass, firstFail); mid !== null; mid = refine(lastPass, firstFail)) {
    tried.push(mid)
    if (mid <= capacity) lastPass = mid
    else firstFail = mid
  }
  t.same(tried, [450, 425])
  t.equal(lastPass, 425)
})
