import type { JobSummary } from '@tms/jobs'
import { useState } from 'preact/hooks'
import { api } from './api.js'
import { usePolling, useStep } from './hooks.js'
import type { ScreenProps } from './session.js'

const time = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleTimeString() : '—')

export function Jobs({ user, say, fail }: ScreenProps) {
  const [jobs, setJobs] = useState<JobSummary[] | null>(null)
  const { busy, step } = useStep(fail)
  const refresh = () =>
    api
      .read<{ items: JobSummary[] }>('/admin/jobs')
      .then((page) => setJobs(page.items))
      .catch(fail)
  usePolling(refresh, 5000)

  const act = (job: JobSummary, action: 'pause' | 'resume' | 'run', words: string) =>
    step(async () => {
      await api.write(user.id, `${words} ${job.id}`, 'POST', `/admin/jobs/${job.id}/${action}`)
      say(`${words}: ${job.id}.`)
      await refresh()
    })

  return (
    <section aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      {jobs === null && <p>Loading…</p>}
      {jobs && (
        <table>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">State</th>
              <th scope="col">Last run</th>
              <th scope="col">Next run</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.id}>
                <th scope="row">{job.id}</th>
                <td>{job.paused ? 'paused' : job.running ? `running on ${job.running.instance}` : 'scheduled'}</td>
                <td>{job.lastRun ? `${time(job.lastRun.startedAt)} ${job.lastRun.outcome} on ${job.lastRun.instance}` : '—'}</td>
                <td>{job.paused ? '—' : time(job.nextRunAt)}</td>
                <td class="actions">
                  {job.paused ? (
                    <button
                      type="button"
                      disabled={busy}
                      aria-label={`Resume ${job.id}`}
                      onClick={() => act(job, 'resume', 'Resumed')}
                    >
                      Resume
                    </button>
                  ) : (
                    <button
                      type="button"
                      disabled={busy}
                      aria-label={`Pause ${job.id}`}
                      onClick={() => act(job, 'pause', 'Paused')}
                    >
                      Pause
                    </button>
                  )}
                  <button
                    type="button"
                    disabled={busy}
                    aria-label={`Run ${job.id} now`}
                    onClick={() => act(job, 'run', 'Started')}
                  >
                    Run now
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
