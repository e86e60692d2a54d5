import type { BatchDevice, BatchView } from '@tms/warehouse'
import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiProblem, api } from './api.js'
import { usePolling, useStep } from './hooks.js'
import type { ScreenProps } from './session.js'
import { WorkList } from './work-list.js'

/** The batch claim lasts PACKING_CLAIM_TTL_SECONDS like a shipment's; claiming again renews it. */
const RENEW_EVERY_MS = 30_000

interface AddResult {
  added: number
  rejected: Array<{ deviceId: string; message: string }>
}

/** Refurbishment batches: fill an open one by scanning devices or masterboxes, pack it, ship it. */
export function Batches(props: ScreenProps) {
  const [open, setOpen] = useState<BatchView | null>(null)
  return open ? (
    <OpenBatch {...props} batch={open} onChange={setOpen} onClose={() => setOpen(null)} />
  ) : (
    <BatchList {...props} onOpen={setOpen} />
  )
}

function BatchList({ user, fail, onOpen }: ScreenProps & { onOpen: (batch: BatchView) => void }) {
  const [batches, setBatches] = useState<BatchView[] | null>(null)
  const { busy, step } = useStep(fail)
  usePolling(() => {
    Promise.all(
      (['OPEN', 'PACKED'] as const).map((status) =>
        api.read<{ items: BatchView[] }>(`/refurbishment-batches?status=${status}&limit=20`),
      ),
    )
      .then(([openOnes, packed]) => setBatches([...openOnes!.items, ...packed!.items]))
      .catch(fail)
  }, 5000)

  const openBatch = (batch: BatchView) =>
    step(async () => {
      if (batch.status === 'OPEN') {
        await api.write(user.id, `Claim batch #${batch.number}`, 'POST', `/refurbishment-batches/${batch.id}/claim`)
      }
      onOpen(batch)
    })

  return (
    <section aria-labelledby="batches-heading">
      <h2 id="batches-heading">Refurbishment batches</h2>
      {batches === null && <p>Loading…</p>}
      {batches?.length === 0 && <p>No batch to fill or ship. An operator creates batches.</p>}
      {batches && (
        <WorkList
          label="Refurbishment batches"
          busy={busy}
          items={batches.map((batch) => ({
            key: batch.id,
            title: `Batch #${batch.number}`,
            details: [
              batch.description,
              `${batch.modelNumber} ${batch.hardwareEdition} · ${batch.deviceCount} devices · ${batch.status.toLowerCase()}`,
            ],
            action: 'Open',
            actionLabel: `Open batch #${batch.number}`,
            onAction: () => openBatch(batch),
          }))}
        />
      )}
    </section>
  )
}

function OpenBatch({
  user,
  say,
  fail,
  batch,
  onChange,
  onClose,
}: ScreenProps & { batch: BatchView; onChange: (batch: BatchView) => void; onClose: () => void }) {
  const [devices, setDevices] = useState<BatchDevice[]>([])
  // A masterbox id that devices of several partners carry: whose box it is, the agent says.
  const [partnersOf, setPartnersOf] = useState<{ masterboxId: string; partners: Array<{ id: string; label: string }> } | null>(
    null,
  )
  const { busy, step } = useStep(fail)
  const scan = useRef<HTMLInputElement>(null)
  const tracking = useRef<HTMLInputElement>(null)
  const filling = batch.status === 'OPEN'
  const path = `/refurbishment-batches/${batch.id}`

  async function reload() {
    const { batch: fresh, devices: page } = await api.read<{ batch: BatchView; devices: { items: BatchDevice[] } }>(path)
    onChange(fresh)
    setDevices(page.items)
  }

  // Loaded once per batch opened; later changes come back with each step.
  useEffect(() => {
    reload().catch(fail)
  }, [batch.id])

  useEffect(() => {
    if (!filling) return
    const timer = setInterval(() => {
      api.write(user.id, `Keep batch #${batch.number}`, 'POST', `${path}/claim`).catch(fail)
    }, RENEW_EVERY_MS)
    return () => clearInterval(timer)
  }, [filling, path, batch.number, user.id, fail])

  useEffect(() => {
    if (filling) scan.current?.focus()
    else if (batch.status === 'PACKED') tracking.current?.focus()
  }, [filling, batch.status])

  const add = (what: 'device' | 'masterbox') => (event: SubmitEvent) => {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    const code = String(new FormData(form).get('code') ?? '').trim()
    if (!code) return
    return addDevices(what === 'device' ? { deviceIds: [code] } : { masterboxId: code }, code, form)
  }

  const addDevices = (
    body: { deviceIds: string[] } | { masterboxId: string; registeredBy?: string },
    code: string,
    form?: HTMLFormElement,
  ) =>
    step(async () => {
      setPartnersOf(null)
      let result: AddResult
      try {
        result = await api.write<AddResult>(user.id, `Add ${code} to batch #${batch.number}`, 'POST', `${path}/devices`, body)
      } catch (error) {
        if (!(error instanceof ApiProblem && error.code === 'AMBIGUOUS_MASTERBOX' && 'masterboxId' in body)) throw error
        // Each detail is "<partner id>: <name>, <n> devices".
        const partners = error.details.map((d) => ({
          id: d.message.slice(0, d.message.indexOf(':')),
          label: d.message.slice(d.message.indexOf(':') + 2),
        }))
        setPartnersOf({ masterboxId: body.masterboxId, partners })
        say(error.message)
        return
      }
      form?.reset()
      await reload()
      if (result.rejected.length > 0) {
        fail(
          new ApiProblem(
            200,
            'DEVICES_REJECTED',
            `Added ${result.added}; not added: ${result.rejected.map((r) => `${r.deviceId}: ${r.message}`).join('; ')}`,
          ),
        )
      } else say(`Added ${result.added} device${result.added === 1 ? '' : 's'} to batch #${batch.number}.`)
    })

  const remove = (deviceId: string) =>
    step(async () => {
      await api.write(user.id, `Remove ${deviceId}`, 'DELETE', `${path}/devices/${encodeURIComponent(deviceId)}`)
      await reload()
      say(`Removed ${deviceId}; it is in stock again.`)
    })

  const pack = () =>
    step(async () => {
      onChange(await api.write<BatchView>(user.id, `Pack batch #${batch.number}`, 'POST', `${path}/pack`))
      say(`Packed batch #${batch.number} for refurbishment. Scan or type the tracking number.`)
    })

  const ship = (event: SubmitEvent) => {
    event.preventDefault()
    const trackingNumber = tracking.current?.value.trim() ?? ''
    return step(async () => {
      await api.write(user.id, `Ship batch #${batch.number}`, 'POST', `${path}/ship`, { trackingNumber })
      say(`Shipped batch #${batch.number} with ${trackingNumber}.`)
      onClose()
    })
  }

  const leave = () =>
    step(async () => {
      if (filling) await api.write(user.id, `Release batch #${batch.number}`, 'DELETE', `${path}/claim`)
      onClose()
    })

  return (
    <section aria-labelledby="batch-heading" class="card">
      <h2 id="batch-heading">Batch #{batch.number}</h2>
      <p>
        {batch.description} · {batch.modelNumber} {batch.hardwareEdition} · {batch.deviceCount} devices ·{' '}
        {filling ? 'held by you while you fill it' : batch.status.toLowerCase()}
      </p>
      {filling && (
        <>
          <form onSubmit={add('device')}>
            <label>
              Device
              <input ref={scan} name="code" autocomplete="off" maxLength={64} required />
            </label>
            <button type="submit" class="primary" disabled={busy}>
              Add device
            </button>
          </form>
          <form onSubmit={add('masterbox')}>
            <label>
              Masterbox
              <input name="code" autocomplete="off" maxLength={64} required />
            </label>
            <button type="submit" disabled={busy}>
              Add masterbox
            </button>
          </form>
          {partnersOf && (
            <fieldset>
              <legend>Masterbox {partnersOf.masterboxId} holds devices of several partners. Whose box is it?</legend>
              {partnersOf.partners.map((partner) => (
                <button
                  key={partner.id}
                  type="button"
                  disabled={busy}
                  onClick={() =>
                    addDevices({ masterboxId: partnersOf.masterboxId, registeredBy: partner.id }, partnersOf.masterboxId)
                  }
                >
                  {partner.label}
                </button>
              ))}
            </fieldset>
          )}
        </>
      )}
      <h3>Devices</h3>
      {devices.length === 0 && <p>No device in this batch yet.</p>}
      <ul aria-label="Devices in the batch">
        {devices.map((device) => (
          <li key={device.deviceId}>
            {device.deviceId} (masterbox {device.masterboxId}){' '}
            {filling && (
              <button
                type="button"
                disabled={busy}
                aria-label={`Remove ${device.deviceId}`}
                onClick={() => remove(device.deviceId)}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {batch.deviceCount > devices.length && <p>and {batch.deviceCount - devices.length} more.</p>}
      {filling && batch.deviceCount > 0 && (
        <button type="button" class="primary" disabled={busy} onClick={pack}>
          Pack for refurbishment
        </button>
      )}
      {batch.status === 'PACKED' && (
        <form onSubmit={ship}>
          <label>
            Tracking number
            <input ref={tracking} name="trackingNumber" required autocomplete="off" maxLength={40} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            Ship refurbishment batch
          </button>
        </form>
      )}
      <button type="button" disabled={busy} onClick={leave}>
        {filling ? 'Back to the list (release it)' : 'Back to the list'}
      </button>
    </section>
  )
}
