import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createDidKeyIdentity } from '../src/did/identity.js'
import { createInvite, decodeInvite, verifyInvite } from '../src/invite/invite.js'

const admin = createDidKeyIdentity()
const alice = createDidKeyIdentity()
const address = '/orbitdb/zdpuInviteTestDatabase'

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const parts = (token: string) => {
  const [header, payload, signature] = token.split('.') as [string, string, string]
  return { header: JSON.parse(Buffer.from(header, 'base64url').toString()), payload: JSON.parse(Buffer.from(payload, 'base64url').toString()), signature }
}

async function failure (token: string, at = Date.now()): Promise<{ name: string, reason: string, message: string }> {
  try {
    await verifyInvite(token, { address, audience: alice.did, at })
  } catch (err) {
    const e = err as { name: string, reason: string, message: string }
    return { name: e.name, reason: e.reason, message: e.message }
  }
  throw new Error('the invite was accepted')
}

describe('invite tokens', () => {
  it('round-trips: issuer, audience, database, role, expiry and a unique id', async () => {
    const token = await createInvite(admin, { address, audience: alice.did, role: 'writer', expiresIn: 60_000 })
    const claims = await verifyInvite(token, { address, audience: alice.did, at: Date.now() })
    expect(claims).toMatchObject({ issuer: admin.did, audience: alice.did, address, role: 'writer' })
    expect(claims.expiresAt).toBeGreaterThan(Date.now())
    const again = await createInvite(admin, { address, audience: alice.did })
    expect(decodeInvite(again).id).not.toBe(claims.id)
    expect(parts(token).header).toMatchObject({ alg: 'EdDSA' })
  })

  it('refuses an unsigned token (alg none)', async () => {
    const token = await createInvite(admin, { address, audience: alice.did })
    const { payload } = parts(token)
    expect(await failure(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`)).toMatchObject({ name: 'InvalidInviteError', reason: 'invalid-invite' })
  })

  it('refuses an HS256 token, even one keyed with the issuer\'s public DID', async () => {
    const token = await createInvite(admin, { address, audience: alice.did })
    const { payload } = parts(token)
    const data = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`
    const mac = createHmac('sha256', admin.did).update(data).digest('base64url')
    const result = await failure(`${data}.${mac}`)
    expect(result).toMatchObject({ name: 'InvalidInviteError', reason: 'invalid-invite' })
    expect(result.message).toContain('only EdDSA')
  })

  it('refuses a token whose kid names another DID', async () => {
    const mallory = createDidKeyIdentity()
    const token = await createInvite(admin, { address, audience: alice.did })
    const { header, payload, signature } = parts(token)
    const relabelled = `${b64({ ...header, kid: `${mallory.did}#${mallory.did.slice(8)}` })}.${b64(payload)}.${signature}`
    expect((await failure(relabelled)).message).toContain('key id names')
  })

  it('refuses a token whose payload was changed after signing', async () => {
    const token = await createInvite(admin, { address, audience: alice.did, role: 'writer' })
    const { header, payload, signature } = parts(token)
    const promoted = `${b64(header)}.${b64({ ...payload, didbase: { ...payload.didbase, role: 'admin' } })}.${signature}`
    expect(await failure(promoted)).toMatchObject({ name: 'InvalidInviteError', reason: 'invalid-invite' })
  })

  it('refuses another audience, another database and an expired token, with typed errors', async () => {
    const bob = createDidKeyIdentity()
    const forBob = await createInvite(admin, { address, audience: bob.did })
    expect((await failure(forBob)).message).toContain(`is for ${bob.did}`)
    const elsewhere = await createInvite(admin, { address: '/orbitdb/zdpuElsewhere', audience: alice.did })
    expect((await failure(elsewhere)).message).toContain('is for /orbitdb/zdpuElsewhere')
    const shortLived = await createInvite(admin, { address, audience: alice.did, expiresIn: 5_000 })
    expect(await failure(shortLived, Date.now() + 10_000)).toMatchObject({ name: 'InviteExpiredError', reason: 'invite-expired' })
  })

  it('does not issue an invite that has already expired, or for a string that is not a DID', async () => {
    await expect(createInvite(admin, { address, audience: alice.did, expiresIn: -1 })).rejects.toMatchObject({ name: 'InvalidInviteError' })
    await expect(createInvite(admin, { address, audience: 'alice' })).rejects.toMatchObject({ name: 'InvalidDidError' })
    expect(() => decodeInvite('not a token')).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
  })
})
