import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { CpuMeter, cpuSecondsOf, pidsNamed } from '../src/capacity/process-cpu.js'

t.test('cpuSecondsOf: a busy process is charged its CPU, an idle one nothing, a gone one null', async (t) => {
  const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 5000; while (Date.now() < end) {}'])
  const idle = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'])
  t.teardown(() => {
    busy.kill('SIGKILL')
    idle.kill('SIGKILL')
  })
  await sleep(300)
  const meter = new CpuMeter(() => ({ busy: [busy.pid!], idle: [idle.pid!] }))
  meter.start()
  await sleep(1000)
  const used = meter.stop()
  // Generous: the busy loop gets at least a fifth of a core on a shared two-core machine.
  t.ok(used.busy! > 0.2, `the busy process used ${used.busy!.toFixed(2)} s of CPU in 1 s`)
  t.ok(used.idle! < 0.1, `the idle one ${used.idle!.toFixed(2)} s`)
  busy.kill('SIGKILL')
  await once(busy, 'exit')
  t.equal(cpuSecondsOf(busy.pid!), null, 'gone: null, not a number')
})

t.test('pidsNamed finds processes by their exact command name', async (t) => {
  t.ok(pidsNamed('node').includes(process.pid), 'this node process')
  t.same(pidsNamed('no-such-process-name'), [])
})
