import { Signer } from '@fastify/cookie'
import t from 'tap'
import { CachingSigner } from '../src/sessions/cookie-signer.js'

const OLD = 'o'.repeat(32)
const NEW = 'n'.repeat(32)

t.test('rotation: the first secret signs, every secret verifies, an old signature asks for renewal', async (t) => {
  const before = new CachingSigner([OLD])
  const cookie = before.sign('session-1')
  const after = new CachingSigner([NEW, OLD])
  t.same(after.unsign(cookie), { valid: true, renew: true, value: 'session-1' }, 'signed before the rotation: valid, renew')
  const resigned = after.sign('session-1')
  t.not(resigned, cookie, 're-signed with the new secret')
  t.same(after.unsign(resigned), { valid: true, renew: false, value: 'session-1' })
  t.equal(new Signer([NEW]).unsign(resigned).valid, true, 'by the new secret alone')
  t.same(new CachingSigner([NEW]).unsign(cookie), { valid: false, renew: false, value: null }, 'once OLD is dropped, no longer')
})

t.test('the cache holds only what verified, and stays bounded', async (t) => {
  const signer = new CachingSigner([NEW], 3)
  const forged = `session-1.${'A'.repeat(43)}`
  t.equal(signer.unsign(forged).valid, false)
  t.equal(signer.unsign(forged).valid, false, 'a forgery is checked again, never remembered as valid')
  const cookies = ['a', 'b', 'c', 'd'].map((id) => signer.sign(id))
  t.same(
    cookies.map((c) => signer.unsign(c)),
    ['a', 'b', 'c', 'd'].map((value) => ({ valid: true, renew: false, value })),
    'past its capacity it forgets the oldest, and still answers right',
  )
})
