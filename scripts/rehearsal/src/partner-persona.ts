import { type MixContext, messageOf, notInThisVersionYet, type Person, pickIdle, sendAs, TG5, whileBusy } from './mix-context.js'

/** Devices a partner registers at once: one masterbox. */
const DEVICES_PER_MASTERBOX = 10

export type PartnerStep = 'setup' | 'login' | 'register' | 'list'

/** A manufacturing partner registering the devices it produced. */
export interface PartnerPerson extends Person {
  kind: 'partner'
  at: PartnerStep
  lastMasterbox?: string | undefined
}

/**
 * One request of a partner: the admin makes its account (during the load: a version from
 * before partners existed refuses them), it logs in, registers a masterbox of devices, looks it
 * up, again. When both partners are busy, an anonymous health check.
 */
export async function partnerTurn(mix: MixContext, partners: PartnerPerson[], scheduledAt: number): Promise<void> {
  const { person: partner, idle } = pickIdle(partners, () => mix.random())
  if (!idle) {
    await mix.send(scheduledAt, 'anonymous', undefined, 'GET /health/live', { method: 'GET', path: '/health/live' })
    return
  }
  await whileBusy(partner, () => partnerStep(mix, partner, scheduledAt))
}

async function partnerStep(mix: MixContext, partner: PartnerPerson, scheduledAt: number): Promise<void> {
  const send = sendAs(mix, scheduledAt, partner)
  if (partner.at === 'setup') {
    // The admin makes the partner's account; an old version knows no partner role (400).
    const reply = await mix.send(
      scheduledAt,
      'operator',
      undefined,
      'POST /users',
      {
        method: 'POST',
        path: '/users',
        cookie: mix.adminCookie,
        body: { email: partner.email, password: partner.password, roles: ['partner'] },
      },
      (r) =>
        r.status === 400 && /body\.roles\.0 must be one of/.test(messageOf(r))
          ? 'no partner role in this version yet'
          : r.status === 409
            ? 'already made'
            : undefined,
    )
    if (reply.status === 201 || reply.status === 409) partner.at = 'login'
  } else if (partner.at === 'login') {
    await mix.login(scheduledAt, partner)
    if (partner.cookie) partner.at = 'register'
  } else if (partner.at === 'register') {
    const masterboxId = `MB-${mix.runId.replaceAll('_', '-')}-${mix.nextMasterbox()}`.slice(0, 40)
    const devices = Array.from({ length: DEVICES_PER_MASTERBOX }, (_, i) => ({
      deviceId: `${masterboxId}-D${i}`.slice(-40),
      ...TG5,
      innerboxId: `${masterboxId}-I${Math.floor(i / 5)}`.slice(-40),
      masterboxId,
    }))
    const reply = await send('POST /devices', { method: 'POST', path: '/devices', body: { devices } }, notInThisVersionYet)
    if (reply.status === 200) {
      mix.ledger.registeredDevices += (reply.body as { registered: number }).registered
      mix.ledger.freshMasterboxes.push(masterboxId)
      partner.lastMasterbox = masterboxId
      partner.at = 'list'
    }
  } else {
    // During a deploy from an old version, the next request may meet an instance that has no
    // devices yet.
    await send(
      'GET /devices?masterboxId=',
      { method: 'GET', path: `/devices?masterboxId=${partner.lastMasterbox}&limit=20` },
      notInThisVersionYet,
    )
    partner.at = 'register'
  }
}
