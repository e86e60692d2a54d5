import { randomUUID } from 'node:crypto'
import type { CollectionSpec, Storage, Stored } from '@tms/storage'

export type RunOutcome = 'running' | 'succeeded' | 'failed' | 'aborted' | 'skipped' | 'abandoned'

/**
 * One attempt of one job. Not unique per tick on purpose: if a tick ever ran twice, both runs
 * are here to see (the acceptance tests count them).
 */
export interface JobRun {
  scheduleId: string
  jobId: string
  /** The scheduled slot (ISO) for scheduled runs; null for runs asked for on demand. */
  tick: string | null
  trigger: 'schedule' | 'on-demand'
  attempt: number
  instance: string
  version: string
  startedAt: string
  endedAt: string | null
  durationMs: number | null
  outcome: RunOutcome
  error: string | null
  result: Record<string, unknown> | null
}

export const jobRuns: CollectionSpec<JobRun> = {
  name: 'job_runs',
  schemaVersion: 1,
  indexed: ['scheduleId', 'outcome'],
}

export interface RunView extends JobRun {
  id: string
}

const view = (run: Stored<JobRun>): RunView => ({ id: run.id, ...run.data })

export class JobRuns {
  constructor(private readonly storage: Storage) {}

  async start(run: Omit<JobRun, 'endedAt' | 'durationMs' | 'outcome' | 'error' | 'result'>): Promise<Stored<JobRun>> {
    return this.storage.insert(jobRuns, randomUUID(), {
      ...run,
      endedAt: null,
      durationMs: null,
      outcome: 'running',
      error: null,
      result: null,
    })
  }

  async finish(
    run: Stored<JobRun>,
    outcome: Exclude<RunOutcome, 'running'>,
    details: { error?: string; result?: Record<string, unknown> } = {},
  ): Promise<void> {
    const endedAt = new Date()
    await this.storage.update(jobRuns, run, {
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - Date.parse(run.data.startedAt),
      outcome,
      error: details.error ?? null,
      result: details.result ?? null,
    })
  }

  /** Newest first. */
  async recent(scheduleId: string, limit: number): Promise<RunView[]> {
    return (await this.storage.find(jobRuns, { where: { scheduleId }, order: 'newest', limit })).map(view)
  }

  /** Oldest first: every run of a schedule, e.g. to check its ticks. */
  async all(scheduleId: string, limit = 10_000): Promise<RunView[]> {
    return (await this.storage.find(jobRuns, { where: { scheduleId }, limit })).map(view)
  }

  /**
   * Runs still marked running long after they could be (their process was killed): marked
   * abandoned, so an operator does not wait for them. The job itself is re-run by BullMQ.
   */
  async abandonStale(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs
    let abandoned = 0
    for (const run of await this.storage.find(jobRuns, { where: { outcome: 'running' }, limit: 1000 })) {
      if (Date.parse(run.data.startedAt) >= cutoff) continue
      await this.storage
        .update(jobRuns, run, { outcome: 'abandoned', error: 'its process stopped without finishing it' })
        .catch(() => undefined)
      abandoned++
    }
    return abandoned
  }

  /** Deletes finished runs older than `days`; at most `batch` per call. */
  async trim(days: number, batch = 1000): Promise<number> {
    const cutoff = Date.now() - days * 86_400_000
    let removed = 0
    // Oldest first, a page at a time: most ticks find the oldest run young and stop after one row.
    for (let page = 1; removed < batch; page *= 10) {
      const runs = await this.storage.find(jobRuns, { limit: Math.min(page, batch - removed) })
      let removedHere = 0
      let young = false
      for (const run of runs) {
        if (Date.parse(run.data.startedAt) >= cutoff) {
          young = true
          break
        }
        if (run.data.outcome === 'running') continue
        if (await this.storage.delete(jobRuns, run.id)) removedHere++
      }
      removed += removedHere
      if (young || removedHere === 0 || runs.length === 0) break
    }
    return removed
  }
}
