import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { type ClusterDefinition, DEPLOY_LOCAL } from './cluster-definition.js'
import { dieWithSupervisor } from './supervision.js'

export class HaproxyMissingError extends Error {}

export interface SlotState {
  slot: number
  /** HAProxy's view: UP, DOWN, MAINT, DRAIN, 'UP 1/2', 'DOWN 1/2', ... */
  status: string
  port: number | null
  /** Sessions in progress on this server right now. */
  sessions: number
}

/**
 * HAProxy from Debian's package, in front of the API instances. Instances are put into and
 * taken out of fixed slots through its runtime API (stats socket), as a cloud balancer's
 * target group is changed.
 */
export class LoadBalancer {
  #child: ChildProcess | undefined
  readonly #socket: string

  constructor(
    private readonly definition: ClusterDefinition['loadBalancer'],
    private readonly runDir: string,
    readonly port: number,
  ) {
    // Absolute: HAProxy reads a stats socket path without a leading / as host:port.
    this.#socket = resolve(runDir, 'haproxy.sock')
  }

  /**
   * HAProxy must be on the PATH. Installing it is scripts/prepare.mjs's job (`npm start`,
   * `npm run rehearse` and `npm test` run it first); here only a clear message if it is missing.
   */
  static requireInstalled(): void {
    if (spawnSync('which', ['haproxy']).status === 0) return
    throw new HaproxyMissingError(
      'HAProxy is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y haproxy; macOS: brew install haproxy).',
    )
  }

  async start(): Promise<void> {
    const hc = this.definition.healthCheck
    const config = readFileSync(`${DEPLOY_LOCAL}haproxy.cfg.template`, 'utf8')
      .replaceAll('{{socket}}', this.#socket)
      .replaceAll('{{port}}', String(this.port))
      .replaceAll('{{idleTimeout}}', `${this.definition.idleTimeoutMs}ms`)
      .replaceAll('{{healthPath}}', hc.path)
      .replaceAll('{{checkInterval}}', `${hc.intervalMs}ms`)
      .replaceAll('{{fall}}', String(hc.fall))
      .replaceAll('{{rise}}', String(hc.rise))
      .replaceAll('{{slots}}', String(this.definition.slots))
      .replaceAll(
        '{{stickiness}}',
        this.definition.stickySessions
          ? // A cookie per server, derived from its address, so runtime-filled slots get one too.
            'cookie tms.lb insert indirect nocache dynamic\n  dynamic-cookie-key tms-local-cluster'
          : '# no stickiness: any instance serves any request',
      )
    writeFileSync(this.configFile, config)
    // Killed with the supervisor, however the supervisor ends: no ghost balancer on the port.
    const [command, args] = dieWithSupervisor('haproxy', ['-f', this.configFile, '-db'])
    this.#child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
    let stderr = ''
    this.#child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    for (let i = 0; i < 100; i++) {
      if (this.#child.exitCode !== null) throw new Error(`HAProxy did not start: ${stderr}`)
      if (
        await this.command('show info').then(
          () => true,
          () => false,
        )
      )
        return
      await sleep(50)
    }
    throw new Error(`HAProxy's stats socket did not come up: ${stderr}`)
  }

  /** Its configuration file: part of its command line, to tell it from another process with its pid. */
  get configFile(): string {
    return `${this.runDir}/haproxy.cfg`
  }

  /** While it runs. */
  get pid(): number | undefined {
    return this.#child && this.#child.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined
  }

  /** At once, without waiting (a second Ctrl-C). */
  kill(): void {
    this.#child?.kill('SIGKILL')
  }

  /** One runtime API command. */
  async command(line: string): Promise<string> {
    const socket = connect(this.#socket)
    await once(socket, 'connect')
    socket.end(`${line}\n`)
    let reply = ''
    for await (const chunk of socket) reply += (chunk as Buffer).toString()
    return reply
  }

  /** Points a slot at an instance and lets health checks decide when it gets traffic. */
  async register(slot: number, port: number): Promise<void> {
    await this.command(`set server api/api${slot} addr 127.0.0.1 port ${port}`)
    await this.command(`set server api/api${slot} state ready`)
  }

  /** No new requests to this slot; those in flight finish. */
  async drain(slot: number): Promise<void> {
    await this.command(`set server api/api${slot} state drain`)
  }

  async deregister(slot: number): Promise<void> {
    await this.command(`set server api/api${slot} state maint`)
  }

  async slots(): Promise<SlotState[]> {
    const csv = await this.command('show stat')
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n')
    const columns = header!.split(',')
    const at = (row: string[], name: string) => row[columns.indexOf(name)] ?? ''
    return rows
      .map((line) => line.split(','))
      .filter((row) => row[0] === 'api' && /^api\d+$/.test(row[1] ?? ''))
      .map((row) => ({
        slot: Number(at(row, 'svname').slice(3)),
        status: at(row, 'status'),
        port: Number(at(row, 'addr').split(':')[1]) || null,
        sessions: Number(at(row, 'scur')) || 0,
      }))
  }

  async slot(slot: number): Promise<SlotState> {
    return (await this.slots()).find((s) => s.slot === slot)!
  }

  async waitUntil(slot: number, test: (state: SlotState) => boolean, timeoutMs: number): Promise<SlotState> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const state = await this.slot(slot)
      if (test(state)) return state
      if (Date.now() > deadline) throw new Error(`api${slot} is ${state.status}; waited ${timeoutMs} ms`)
      await sleep(100)
    }
  }

  async freeSlot(): Promise<number> {
    const free = (await this.slots()).find((s) => s.status === 'MAINT' && !this.#reserved.has(s.slot))
    if (!free) throw new Error('no free load balancer slot: raise loadBalancer.slots')
    this.#reserved.add(free.slot)
    return free.slot
  }

  release(slot: number): void {
    this.#reserved.delete(slot)
  }

  readonly #reserved = new Set<number>()

  async stop(): Promise<void> {
    if (!this.#child || this.#child.exitCode !== null) return
    this.#child.kill('SIGTERM')
    await once(this.#child, 'exit')
  }
}
