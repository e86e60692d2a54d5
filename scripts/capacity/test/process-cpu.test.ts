import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { CpuMeter, cpuSecondsOf, pidsNamed } from '../src/process-cpu.js'

t.test('cpuSecondsOf: a busy process is charged its CPU, an idle one nothing, a gone one null', async (t) => {
  // Each says "ready" once started: a node process starting up is busy, whatever it runs next.
  const busy = spawn(process.execPath, [
    '-e',
    'console.log("ready"); const end = Date.now() + 10000; while (Date.now() < end) {}',
  ])
  const idle = spawn(process.execPath, ['-e', 'console.log("ready"); setTimeout(() => {}, 10000)'])
  t.teardown(() => {
    busy.kill('SIGKILL')
    idle.kill('SIGKILL')
  })
  await Promise.all([once(busy.stdout, 'data'), once(idle.stdout, 'data')])
  await sleep(200)
  const meter = new CpuMeter(() => ({ busy: [busy.pid!], idle: [idle.pid!] }))
  meter.start()
  await sleep(1000)
  const used = meter.stop()
  // Generous: on a two-core machine busy with other tests the loop still gets a twentieth of a core.
  t.ok(used.busy! > 0.05, `the busy process used ${used.busy!.toFixed(2)} s of CPU in 1 s`)
  // An idle node process still runs a garbage collection or a timer now and then.
  t.ok(used.idle! < used.busy! / 4, `the idle one ${used.idle!.toFixed(2)} s, far less`)
  busy.kill('SIGKILL')
  await once(busy, 'exit')
  t.equal(cpuSecondsOf(busy.pid!), null, 'gone: null, not a number')
})

t.test('pidsNamed finds processes by their exact command name', async (t) => {
  // sleep(1), not node: Node 24 names its main thread MainThread, which is what pgrep -x reads.
  const sleeper = spawn('sleep', ['30'])
  t.teardown(() => sleeper.kill('SIGKILL'))
  t.ok(pidsNamed('sleep').includes(sleeper.pid!), 'the sleep process')
  t.same(pidsNamed('no-such-process-name'), [])
})
