/**
 * A delegated key's redeem (a wallet's session joining with an invite) brings its delegation
 * and registers the key in the same entry. Judged offline here, as every replica judges it:
 * the same verdict whatever a replica's clock says, within the same key budget as a
 * `session`, and no cheaper path for a stranger's huge delegation.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { delegateDevice } from '../src/identity/delegated.js'
import { createDidKeyIdentity } from '../src/did/identity.js'
import { createInvite } from '../src/invite/invite.js'
import { verifyDelegation } from '../src/delegation/chain.js'
import { MAX_SCOPE } from '../src/delegation/link.js'
import { MAX_KEYS_PER_LINK } from '../src/judge/rules.js'
import { History, verdict } from './history.js'
import { TEST_ADDRESS, walletCacao, walletDid } from './wallet.js'

const founder = createDidKeyIdentity()
const rules = (writers: string[] = []) => ({ admins: [founder.did], writers, mutable: true, ownership: false, version: 2 })
const HOUR = 3_600_000

afterEach(() => { vi.restoreAllMocks() })

describe('a delegated key redeems an invite', () => {
  it('registers the key and grants the role in one entry; the key then writes', async () => {
    const h = new History(TEST_ADDRESS)
    const session = createDidKeyIdentity()
    const token = await createInvite(founder, { address: TEST_ADDRESS, audience: walletDid, role: 'writer' })
    const redeem = await h.acl(session, { action: 'redeem', token, proof: [await walletCacao(session.did)], at: Date.now() }, [], { as: walletDid })
    const put = await h.write(session, { op: 'PUT', key: 'k', value: 'v', at: Date.now() }, [redeem.hash], { as: walletDid })
    const judge = h.judge(rules())
    expect([await verdict(judge, redeem), await verdict(judge, put)]).toEqual(['accepted', 'accepted'])
    const state = await judge.stateAt([put.hash])
    expect([...state.writers]).toEqual([walletDid])
    expect(state.sessions.has(`${walletDid} ${session.did}`)).toBe(true)
  })

  it('a stranger holding no invite, a proof from another user, or a proof for another key is refused', async () => {
    const h = new History(TEST_ADDRESS)
    const session = createDidKeyIdentity()
    const judge = h.judge(rules())
    const forUser = await createInvite(founder, { address: TEST_ADDRESS, audience: walletDid, role: 'writer' })
    const forOther = await createInvite(founder, { address: TEST_ADDRESS, audience: createDidKeyIdentity().did, role: 'writer' })
    const proof = [await walletCacao(session.did)]
    // The invite names another DID.
    expect(await verdict(judge, await h.acl(session, { action: 'redeem', token: forOther, proof, at: Date.now() }, [], { as: walletDid }))).toBe('invalid-invite')
    // The proof delegates to another key than the one that signs.
    expect(await verdict(judge, await h.acl(createDidKeyIdentity(), { action: 'redeem', token: forUser, proof, at: Date.now() }, [], { as: walletDid }))).toBe('invalid-delegation')
    // Signed by the key the proof names, claiming another user.
    const stranger = createDidKeyIdentity()
    expect(await verdict(judge, await h.acl(session, { action: 'redeem', token: forUser, proof, at: Date.now() }, [], { as: stranger.did }))).toBe('invalid-delegation')
  })

  it('gives the same verdict on replicas with different clocks: a delegation issued ahead is judged against the entry\'s own time only', async () => {
    const h = new History(TEST_ADDRESS)
    const session = createDidKeyIdentity()
    const cacao = await walletCacao(session.did, { issuedIn: HOUR, expiresIn: 2 * HOUR })
    const token = await createInvite(founder, { address: TEST_ADDRESS, audience: walletDid, role: 'writer' })
    const tooEarly = await h.acl(session, { action: 'redeem', token, proof: [cacao], at: Date.now() }, [], { as: walletDid })
    const inTime = await h.acl(session, { action: 'redeem', token, proof: [cacao], at: Date.now() + HOUR + 60_000 }, [], { as: walletDid })
    const now = h.judge(rules())
    const verdictsNow = [await verdict(now, tooEarly), await verdict(now, inTime)]
    const real = Date.now
    vi.spyOn(Date, 'now').mockImplementation(() => real() + 2 * HOUR)
    const later = h.judge(rules())
    const verdictsLater = [await verdict(later, tooEarly), await verdict(later, inTime)]
    expect(verdictsNow).toEqual(['delegation-expired', 'accepted'])
    expect(verdictsLater).toEqual(verdictsNow)
  })

  it(`keeps the key budget of a session: no more than ${MAX_KEYS_PER_LINK} keys under one delegation, redeem or not`, async () => {
    const h = new History(TEST_ADDRESS)
    const stolen = createDidKeyIdentity()
    const cacao = await walletCacao(stolen.did, { expiresIn: 2 * HOUR })
    const judge = h.judge(rules([walletDid]))
    let parents = [(await h.acl(stolen, { action: 'session', proof: [cacao], at: Date.now() }, [], { as: walletDid })).hash]
    for (let i = 1; i < MAX_KEYS_PER_LINK; i++) {
      const sub = createDidKeyIdentity()
      const e = await h.acl(sub, { action: 'session', proof: [cacao, await delegateDevice(stolen, sub.did, { expiresIn: HOUR })], at: Date.now() }, parents, { as: walletDid })
      expect(await verdict(judge, e)).toBe('accepted')
      parents = [e.hash]
    }
    const token = await createInvite(founder, { address: TEST_ADDRESS, audience: walletDid, role: 'writer' })
    const sub = createDidKeyIdentity()
    const redeem = await h.acl(sub, { action: 'redeem', token, proof: [cacao, await delegateDevice(stolen, sub.did, { expiresIn: HOUR })], at: Date.now() }, parents, { as: walletDid })
    expect(await verdict(judge, redeem)).toBe('invalid-operation')
  })

  it(`refuses a link naming more than ${MAX_SCOPE} databases before checking its signature`, async () => {
    const root = createDidKeyIdentity()
    const device = createDidKeyIdentity()
    const scope = Array.from({ length: MAX_SCOPE + 1 }, (_, i) => `/orbitdb/zdpu${i}`)
    const token = await delegateDevice(root, device.did, { scope: scope.slice(0, MAX_SCOPE), expiresIn: HOUR })
    expect((await verifyDelegation([token])).scope).toHaveLength(MAX_SCOPE)
    // Signed by the root as any delegation: the count alone refuses it.
    const [header, , signature] = token.split('.')
    const body = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { didbase: { delegate: { scope: string[] } } }
    body.didbase.delegate.scope = scope
    const padded = `${header}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${signature}`
    await expect(verifyDelegation([padded])).rejects.toThrow(`at most ${MAX_SCOPE} databases`)
    await expect(delegateDevice(root, device.did, { scope, expiresIn: HOUR })).rejects.toMatchObject({ name: 'InvalidDelegationError' })
  })
})
