import { mkdirSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { AppInstance, type AppName, BOOT_ON_SPARE_CPU_MS } from './app-instance.js'
import type { ClusterDefinition, DeployStrategy, StopOrder } from './cluster-definition.js'
import { LoadBalancer } from './load-balancer.js'
import { PortAllocator } from './ports.js'
import type { Release } from './release.js'
import type { RecordedProcess } from './supervision.js'

export interface TimelineEvent {
  /** ms since the epoch */
  at: number
  app: AppName | 'lb' | 'cluster'
  action: string
  instance?: string
  version?: string
  detail?: string
}

export interface ClusterOptions {
  definition: ClusterDefinition
  /** Logs, the HAProxy config and socket. */
  runDir: string
  /** Passed to every process: REDIS_URL, DATABASE_URL, REDIS_KEY_PREFIX, ADMIN_*, ... */
  env: Record<string, string>
  release: Release
  lbPort: number
  shopPort: number
  /** Where instance ports are counted from. */
  portBase: number
  onEvent?: (event: TimelineEvent) => void
}

export interface DeployOptions {
  strategy?: DeployStrategy | undefined
  stopOrder?: StopOrder | undefined
  minimumHealthyPercent?: number
  maximumPercent?: number
}

/**
 * The local cluster: HAProxy in front of API processes, job workers, the shop simulator, on
 * this machine's Redis and PostgreSQL. Deploys follow the platforms' rules (see deploy()).
 */
export class LocalCluster {
  readonly timeline: TimelineEvent[] = []
  readonly lb: LoadBalancer
  readonly #options: ClusterOptions
  readonly #ports: PortAllocator
  #api: AppInstance[] = []
  #workers: AppInstance[] = []
  #shop: AppInstance | undefined
  readonly #counters: Record<AppName, number> = { api: 0, worker: 0, shop: 0 }
  /** Every process launched and not yet exited, serving or still booting: stop() leaves none behind. */
  readonly #launched = new Set<AppInstance>()
  #stopping = false
  #stopped: Promise<void> | undefined
  /** One deploy at a time per app; the API and the workers deploy independently. */
  readonly #deploying: Record<'api' | 'worker', Promise<void>> = { api: Promise.resolve(), worker: Promise.resolve() }

  constructor(options: ClusterOptions) {
    this.#options = options
    mkdirSync(`${options.runDir}/logs`, { recursive: true })
    this.#ports = new PortAllocator(options.portBase)
    this.lb = new LoadBalancer(options.definition.loadBalancer, options.runDir, options.lbPort)
  }

  get url(): string {
    return `http://127.0.0.1:${this.lb.port}`
  }

  get shopUrl(): string {
    return `http://127.0.0.1:${this.#options.shopPort}`
  }

  get apiInstances(): ReadonlyArray<AppInstance> {
    return this.#api
  }

  get workerInstances(): ReadonlyArray<AppInstance> {
    return this.#workers
  }

  /** Every process it runs right now, the balancer included (for the supervisor's state file). */
  get processes(): RecordedProcess[] {
    const lb = this.lb.pid ? [{ pid: this.lb.pid, name: 'haproxy', match: this.lb.configFile }] : []
    const instances = [...this.#launched]
      .filter((i) => i.running && i.pid !== undefined)
      .map((i) => ({ pid: i.pid!, name: i.name, match: i.entry }))
    return [...lb, ...instances]
  }

  /** SIGKILL to every process at once, without waiting (a second Ctrl-C: "stop at once"). */
  kill(): void {
    this.#stopping = true
    for (const instance of this.#launched) instance.signal('SIGKILL')
    this.lb.kill()
  }

  readonly #listeners = new Set<(event: TimelineEvent) => void>()

  /** Every step from now on, until the returned function is called. */
  subscribe(listener: (event: TimelineEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #event(app: TimelineEvent['app'], action: string, fields: Omit<TimelineEvent, 'at' | 'app' | 'action'> = {}): void {
    const event = { at: Date.now(), app, action, ...fields }
    this.timeline.push(event)
    this.#options.onEvent?.(event)
    for (const listener of this.#listeners) listener(event)
  }

  async start(): Promise<void> {
    const { definition, release } = this.#options
    await this.lb.start()
    this.#event('lb', 'started', { detail: this.url })
    this.#shop = await this.#launch('shop', release, this.#options.shopPort)
    await this.#shop.waitReady()
    this.#shop.promote()
    for (let i = 0; i < definition.api.instances; i++) await this.#startApi(release)
    for (let i = 0; i < definition.worker.instances; i++) await this.#startWorker(release)
    this.#event('cluster', 'ready', { version: release.version })
  }

  /**
   * Deploys `release` to one app, or to both side by side: each app has its own strategy and
   * its own queue of deploys, so an API deploy never waits for a slow worker drain.
   */
  async deploy(app: 'api' | 'worker' | 'all', release: Release, options: DeployOptions = {}): Promise<void> {
    const apps = app === 'all' ? (['api', 'worker'] as const) : [app]
    await Promise.all(
      apps.map((one) => {
        const run = () => (one === 'api' ? this.#deployApi(release, options) : this.#deployWorkers(release, options))
        const next = this.#deploying[one].then(run, run)
        this.#deploying[one] = next
        return next
      }),
    )
  }

  /**
   * Workers finish their jobs, API instances drain, then the rest. Also while the cluster is
   * still starting or deploying: nothing new is launched from then on, and instances still
   * booting are stopped too (they run in process groups of their own, so nobody else would).
   */
  stop(): Promise<void> {
    // Once: a second SIGTERM would make an instance skip its graceful shutdown.
    this.#stopped ??= this.#stopAll()
    return this.#stopped
  }

  async #stopAll(): Promise<void> {
    this.#stopping = true
    this.#event('cluster', 'stopping')
    await Promise.all(this.#workers.map((w) => this.#stopWorker(w)))
    await Promise.all(this.#api.map((a) => this.#stopApi(a, 'lb-first')))
    await Promise.all([...this.#launched].map((instance) => instance.stop()))
    await this.lb.stop()
    this.#event('cluster', 'stopped')
  }

  /**
   * Rolling (the platforms' rolling update): one step at a time, start a new instance (if the
   * total stays within maximumPercent), wait until the load balancer reports it healthy, stop an
   * old one (if the healthy ones stay at or above minimumHealthyPercent) and wait for its exit.
   * Recreate: stop all, then start all (kept to show what rolling avoids).
   */
  async #deployApi(release: Release, options: DeployOptions): Promise<void> {
    const spec = this.#options.definition.api
    const strategy = options.strategy ?? spec.strategy
    const stopOrder = options.stopOrder ?? spec.stopOrder
    this.#event('api', 'deploy-start', { version: release.version, detail: `${strategy}, ${stopOrder}` })
    if (strategy === 'recreate') {
      const old = [...this.#api]
      await Promise.all(old.map((instance) => this.#stopApi(instance, stopOrder)))
      for (let i = 0; i < spec.instances; i++) await this.#startApi(release)
    } else {
      await this.#roll(
        () => this.#api.filter((a) => a.release.version !== release.version),
        () => this.#api.length,
        () => this.#startApi(release),
        (instance) => this.#stopApi(instance, stopOrder),
        spec.instances,
        options.minimumHealthyPercent ?? spec.minimumHealthyPercent,
        options.maximumPercent ?? spec.maximumPercent,
      )
    }
    this.#event('api', 'deploy-end', { version: release.version })
  }

  async #deployWorkers(release: Release, options: DeployOptions): Promise<void> {
    const spec = this.#options.definition.worker
    const strategy = options.strategy ?? spec.strategy
    this.#event('worker', 'deploy-start', { version: release.version, detail: strategy })
    if (strategy === 'recreate') {
      await Promise.all([...this.#workers].map((w) => this.#stopWorker(w)))
      for (let i = 0; i < spec.instances; i++) await this.#startWorker(release)
    } else {
      await this.#roll(
        () => this.#workers.filter((w) => w.release.version !== release.version),
        () => this.#workers.length,
        () => this.#startWorker(release),
        (instance) => this.#stopWorker(instance),
        spec.instances,
        options.minimumHealthyPercent ?? spec.minimumHealthyPercent,
        options.maximumPercent ?? spec.maximumPercent,
      )
    }
    this.#event('worker', 'deploy-end', { version: release.version })
  }

  async #roll(
    old: () => AppInstance[],
    total: () => number,
    startNew: () => Promise<AppInstance>,
    stopOld: (instance: AppInstance) => Promise<void>,
    desired: number,
    minimumHealthyPercent: number,
    maximumPercent: number,
  ): Promise<void> {
    const maxTotal = Math.floor((desired * maximumPercent) / 100)
    const minHealthy = Math.ceil((desired * minimumHealthyPercent) / 100)
    if (maxTotal <= desired && minHealthy >= desired) {
      throw new Error(
        `cannot roll: minimumHealthyPercent ${minimumHealthyPercent} and maximumPercent ${maximumPercent} leave no room`,
      )
    }
    while (old().length > 0) {
      // Everything running is healthy here: instances are only counted once ready.
      if (total() < maxTotal) await startNew()
      const stale = old()[0]
      if (stale && total() - 1 >= minHealthy) await stopOld(stale)
    }
  }

  /** Like a platform's stop timeout: SIGKILL only well past the app's own bounded shutdown. */
  #killAfterMs(app: 'api' | 'worker'): number {
    const env = this.#options.definition[app].env ?? {}
    const own = Number(app === 'api' ? (env.SHUTDOWN_TIMEOUT_MS ?? 30_000) : (env.WORKER_SHUTDOWN_TIMEOUT_MS ?? 600_000))
    return own + 15_000
  }

  async #launch(app: AppName, release: Release, port?: number): Promise<AppInstance> {
    if (this.#stopping) throw new Error(`the cluster is stopping: no new ${app} instance`)
    const name = `${app}-${++this.#counters[app]}`
    const chosen = port ?? (await this.#ports.take())
    const { env, definition } = this.#options
    const perApp: Record<AppName, Record<string, string>> = {
      api: { ...definition.api.env, PORT: String(chosen), HOST: '127.0.0.1' },
      worker: { ...definition.worker.env, WORKER_HEALTH_PORT: String(chosen), HOST: '127.0.0.1', SHOP_API_URL: this.shopUrl },
      shop: { PORT: String(chosen), HOST: '127.0.0.1' },
    }
    const instance = new AppInstance(
      app,
      name,
      release,
      chosen,
      { ...env, ...perApp[app] },
      `${this.#options.runDir}/logs/${name}.log`,
    )
    this.#launched.add(instance)
    void instance.exited.then(() => this.#launched.delete(instance))
    this.#event(app, 'started', { instance: name, version: release.version, detail: `port ${chosen}, pid ${instance.pid}` })
    return instance
  }

  /** Waits for a booting instance, promoting it when spare CPU did not suffice (BOOT_ON_SPARE_CPU_MS). */
  async #waitBooted(instance: AppInstance): Promise<void> {
    await instance.waitReady(60_000, {
      promoteAfterMs: BOOT_ON_SPARE_CPU_MS,
      onPromoted: () =>
        this.#event(instance.app, 'promoted', {
          instance: instance.name,
          version: instance.release.version,
          detail: `not ready after ${BOOT_ON_SPARE_CPU_MS / 1000} s on spare CPU: boots at normal priority`,
        }),
    })
  }

  async #startApi(release: Release): Promise<AppInstance> {
    const instance = await this.#launch('api', release)
    await this.#waitBooted(instance)
    instance.slot = await this.lb.freeSlot()
    await this.lb.register(instance.slot, instance.port)
    this.#event('api', 'registered', { instance: instance.name, version: release.version, detail: `api${instance.slot}` })
    await this.lb.waitUntil(instance.slot, (s) => s.status === 'UP', 30_000)
    instance.promote()
    this.#event('api', 'healthy', { instance: instance.name, version: release.version })
    this.#api.push(instance)
    return instance
  }

  async #stopApi(instance: AppInstance, order: StopOrder): Promise<void> {
    this.#api = this.#api.filter((a) => a !== instance)
    const slot = instance.slot!
    const version = instance.release.version
    if (order === 'lb-first') {
      // ECS: the target is deregistered and drained by the balancer first, then SIGTERM.
      await this.lb.drain(slot)
      this.#event('api', 'lb-drain', { instance: instance.name, version })
      const until = Date.now() + this.#options.definition.loadBalancer.deregistrationDelayMs
      while (Date.now() < until && (await this.lb.slot(slot)).sessions > 0) await sleep(100)
      await this.lb.deregister(slot)
      this.#event('api', 'deregistered', { instance: instance.name, version })
      this.#event('api', 'sigterm', { instance: instance.name, version })
      const exit = await instance.stop(this.#killAfterMs('api'))
      this.#event('api', 'exited', { instance: instance.name, version, detail: `code ${exit.code ?? exit.signal}` })
    } else {
      // Kubernetes: SIGTERM while the endpoint is removed; the balancer only learns from the
      // instance's failing readiness checks, so the app's own drain must cover that time.
      this.#event('api', 'sigterm', { instance: instance.name, version, detail: 'balancer not told' })
      const exit = await instance.stop(this.#killAfterMs('api'))
      this.#event('api', 'exited', { instance: instance.name, version, detail: `code ${exit.code ?? exit.signal}` })
      await this.lb.deregister(slot)
    }
    this.lb.release(slot)
  }

  async #startWorker(release: Release): Promise<AppInstance> {
    const instance = await this.#launch('worker', release)
    await this.#waitBooted(instance)
    instance.promote()
    this.#event('worker', 'ready', { instance: instance.name, version: release.version })
    this.#workers.push(instance)
    return instance
  }

  async #stopWorker(instance: AppInstance): Promise<void> {
    this.#workers = this.#workers.filter((w) => w !== instance)
    this.#event('worker', 'sigterm', { instance: instance.name, version: instance.release.version })
    const exit = await instance.stop(this.#killAfterMs('worker'))
    this.#event('worker', 'exited', {
      instance: instance.name,
      version: instance.release.version,
      detail: `code ${exit.code ?? exit.signal}`,
    })
  }
}
