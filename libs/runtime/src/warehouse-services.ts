import { type Caches, createCaches } from '@tms/cache'
import { JobRuns, JobsAdmin, type JobsQueue, openJobsQueue, ScheduleRegistry } from '@tms/jobs'
import { LockService, locksPrefix } from '@tms/locks'
import {
  Accounts,
  Catalogue,
  Devices,
  type HashingLimits,
  PackingClaims,
  type PasswordCost,
  QuarantinedOrders,
  RefurbishmentBatches,
  ShipmentCounts,
  ShipmentRequests,
  Shipments,
} from '@tms/warehouse'
import type { Runtime } from './runtime.js'

export interface WarehouseServicesOptions {
  passwordCost?: PasswordCost
  /** How many password hashes run at once on this instance, and how long one may wait its turn. */
  passwordHashing?: HashingLimits
  claims?: { ttlMs: number; maxClaimsPerAgent: number }
  /** How long a refurbishment batch claim lives without renewal. */
  batchClaimTtlMs?: number
  /**
   * The rehearsal's demonstration of what in-process state does to a deploy (refused in
   * production): locks only this instance sees, and shipment counts cached in its own memory.
   */
  inProcessState?: boolean
}

/** The warehouse's services, built the same way by the API, the workers and the tests. */
export interface WarehouseServices {
  locks: LockService
  caches: Caches
  accounts: Accounts
  catalogue: Catalogue
  requests: ShipmentRequests
  shipments: Shipments
  devices: Devices
  batches: RefurbishmentBatches
  claims: PackingClaims
  quarantine: QuarantinedOrders
  runs: JobRuns
  registry: ScheduleRegistry
  jobsQueue: JobsQueue
  jobs: JobsAdmin
}

/** Builds them on the runtime's connections; closes what they hold before the connections close. */
export function buildWarehouseServices(runtime: Runtime, options: WarehouseServicesOptions = {}): WarehouseServices {
  const { config, logger, redis, subscriber, blocking, storage, lifecycle } = runtime
  const lockPrefix = locksPrefix(
    options.inProcessState ? `${config.REDIS_KEY_PREFIX}${config.INSTANCE_ID}:` : config.REDIS_KEY_PREFIX,
  )
  const locks = new LockService({ redis, prefix: lockPrefix, logger })
  const caches = createCaches({ redis, subscriber, prefix: config.REDIS_KEY_PREFIX, logger })
  const catalogue = new Catalogue(storage, caches.memory)
  const shipments = new Shipments(storage, {
    // The demonstration keeps its counts in each instance's memory: that is what it shows.
    ...(options.inProcessState
      ? { cache: caches.memory }
      : {
          counts: new ShipmentCounts({
            redis,
            prefix: config.REDIS_KEY_PREFIX,
            onMoveFailed: (error) =>
              logger.warn({ err: error.message }, 'shipment counts not moved; read from the database again once they expire'),
          }),
        }),
    locks,
  })
  const claims = options.claims ?? { ttlMs: 120_000, maxClaimsPerAgent: 3 }
  const runs = new JobRuns(storage)
  const registry = new ScheduleRegistry(redis, config.REDIS_KEY_PREFIX)
  const jobsQueue = openJobsQueue(blocking, config.REDIS_KEY_PREFIX)
  jobsQueue.on('error', (error) => logger.warn({ err: error.message }, 'job queue error'))
  lifecycle.addShutdownStep(
    { name: 'services', run: async () => void (await Promise.all([caches.close(), jobsQueue.close()])) },
    'first',
  )
  return {
    locks,
    caches,
    accounts: new Accounts(storage, {
      locks,
      passwordCost: options.passwordCost,
      hashing: options.passwordHashing,
    }),
    catalogue,
    requests: new ShipmentRequests(storage, catalogue, locks),
    shipments,
    devices: new Devices(storage, catalogue),
    batches: new RefurbishmentBatches(storage, catalogue, locks, {
      claimTtlMs: options.batchClaimTtlMs ?? 120_000,
      maxClaimsPerAgent: claims.maxClaimsPerAgent,
    }),
    claims: new PackingClaims(locks, shipments, claims),
    quarantine: new QuarantinedOrders(storage),
    runs,
    registry,
    jobsQueue,
    jobs: new JobsAdmin(jobsQueue, registry, runs),
  }
}
