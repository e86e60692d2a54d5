import t from 'tap'
import { EARLY_MS, runOpenModel } from '../src/open-model.js'

t.test('requests leave at the rate for --duration, whatever the answers', async (t) => {
  const scheduled: number[] = []
  // Answers that never come back within the run: an open model keeps sending regardless.
  const load = await runOpenModel({
    rate: 100,
    durationMs: 300,
    fire: async (at) => {
      scheduled.push(at)
      await new Promise((resolve) => setTimeout(resolve, 400))
    },
  })
  t.equal(load.sent, 30)
  t.equal(load.endedMs, 300)
  t.same(scheduled.slice(0, 3), [0, 10, 20], 'one every 10 ms')
})

t.test('a later end from `until` keeps the load going at the same rate; an earlier one changes nothing', async (t) => {
  let fired = 0
  const extended = await runOpenModel({
    rate: 100,
    durationMs: 300,
    // A deploy still under way at 300 ms says 1 s; once it is done (here: 40 requests in),
    // 550 ms. Counted, not timed, so a stalled test process cannot blur it.
    until: () => (fired >= 40 ? 550 : 1000),
    fire: async () => {
      fired++
    },
  })
  t.equal(extended.sent, 55, 'until the moment `until` settled on')
  t.equal(extended.endedMs, 550)

  const early = await runOpenModel({ rate: 100, durationMs: 300, until: () => 100, fire: async () => {} })
  t.equal(early.sent, 30, 'never shorter than --duration')
})

t.test('at 1000/s every request leaves, none more than EARLY_MS before its time', async (t) => {
  const leftAt: Array<{ at: number; left: number }> = []
  const start = performance.now()
  const load = await runOpenModel({
    rate: 1000,
    durationMs: 300,
    fire: async (at) => {
      leftAt.push({ at, left: performance.now() - start })
    },
  })
  t.equal(load.sent, 300)
  t.same(leftAt.map((l) => l.at).slice(0, 3), [0, 1, 2], 'scheduled one a millisecond')
  const earliest = Math.min(...leftAt.map((l) => l.left - l.at))
  // The clock read as the load starts comes a moment after `start`: a little slack below.
  t.ok(earliest >= -EARLY_MS - 0.5, `the earliest left ${(-earliest).toFixed(2)} ms before its time`)
})
