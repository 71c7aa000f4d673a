/**
 * Entries signed by delegated keys, judged against their causal past like invites: the
 * session entry brings the delegation, later entries find it there; a revocation of the
 * key refuses what follows it; times are the entries' own. Real wallets' signatures (viem),
 * real Ed25519 keys, no network.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createDeviceDelegation } from '../src/delegation/device.js'
import { createDidKeyIdentity } from '../src/did/identity.js'
import type { JudgeRules } from '../src/judge/judge.js'
import { walletCacao } from './wallet.js'
import { History, verdict } from './history.js'

const ADDRESS = '/orbitdb/zdpuDelegationTest'

describe('delegated entries', () => {
  it('a wallet\'s session key writes for the wallet\'s did:pkh; a replica in another order agrees', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey())
    // The CACAO helper signs with its own wallet; use its DID.
    const session = createDidKeyIdentity()
    const cacao = await walletCacao(session.did)
    const user = (cacao.p as { iss: string }).iss.toLowerCase()
    const h = new History(ADDRESS)
    const rules: JudgeRules = { admins: [], writers: [user], mutable: false, ownership: false }
    const register = await h.acl(session, { action: 'session', at: Date.now(), proof: [cacao] }, [], { as: user })
    const put = await h.write(session, { op: 'PUT', key: 'k', value: 'from the wallet', at: Date.now() }, [register.hash], { as: user })
    const judge = h.judge(rules)
    expect(await verdict(judge, put)).toBe('accepted')
    expect(await verdict(h.judge(rules), register)).toBe('accepted')
    // Without the session in its past, the same key is refused; so is another wallet's claim.
    const orphan = await h.write(session, { op: 'PUT', key: 'k', value: 'no session', at: Date.now() }, [], { as: user })
    expect(await verdict(judge, orphan)).toBe('signer-mismatch')
    const other = `did:pkh:eip155:1:${wallet.address.toLowerCase()}`
    const stolen = await h.write(session, { op: 'PUT', key: 'k', value: 'as another', at: Date.now() }, [register.hash], { as: other })
    expect(await verdict(judge, stolen)).toBe('signer-mismatch')
    const undated = await h.write(session, { op: 'PUT', key: 'k', value: 'no time' }, [register.hash], { as: user })
    expect(await verdict(judge, undated)).toBe('invalid-delegation')
    const late = await h.write(session, { op: 'PUT', key: 'k', value: 'after expiry', at: Date.now() + 7_200_000 }, [register.hash], { as: user })
    expect(await verdict(judge, late)).toBe('delegation-expired')
  })

  it('a device delegated by a root did:key writes; after the root revokes it, its entries that follow are refused, earlier ones stay', async () => {
    const root = createDidKeyIdentity()
    const phone = createDidKeyIdentity()
    const h = new History(ADDRESS)
    const rules: JudgeRules = { admins: [root.did], writers: [], mutable: true, ownership: false }
    const register = await h.acl(phone, { action: 'session', at: Date.now(), proof: [await createDeviceDelegation(root, phone.did, { scope: [ADDRESS] })] }, [], { as: root.did })
    const before = await h.write(phone, { op: 'PUT', key: 'k', value: 'before', at: Date.now() }, [register.hash], { as: root.did })
    const revoke = await h.acl(root, { action: 'revoke-device', did: phone.did, at: Date.now() }, [before.hash])
    const concurrent = await h.write(phone, { op: 'PUT', key: 'k', value: 'concurrent', at: Date.now() }, [before.hash], { as: root.did })
    const after = await h.write(phone, { op: 'PUT', key: 'k', value: 'after', at: Date.now() }, [revoke.hash], { as: root.did })
    const again = await h.acl(phone, { action: 'session', at: Date.now(), proof: [await createDeviceDelegation(root, phone.did)] }, [revoke.hash], { as: root.did })
    const judge = h.judge(rules)
    expect(await verdict(judge, after)).toBe('device-revoked')
    expect(await verdict(judge, again)).toBe('device-revoked')
    expect(await verdict(judge, concurrent)).toBe('accepted')
    expect(await verdict(judge, before)).toBe('accepted')
    // A device delegation for another database, or by a key that is not the root, does not count.
    const elsewhere = await h.acl(phone, { action: 'session', at: Date.now(), proof: [await createDeviceDelegation(root, phone.did, { scope: ['/orbitdb/zdpuOther'] })] }, [], { as: root.did })
    expect(await verdict(judge, elsewhere)).toBe('invalid-delegation')
    const impostor = createDidKeyIdentity()
    const byImpostor = await h.acl(phone, { action: 'session', at: Date.now(), proof: [await createDeviceDelegation(impostor, phone.did)] }, [], { as: root.did })
    expect(await verdict(judge, byImpostor)).toBe('invalid-delegation')
    // The root's own key still writes, and a stranger's session is refused: it may not write.
    const stranger = createDidKeyIdentity()
    const strangerSession = await h.acl(phone, { action: 'session', at: Date.now(), proof: [await createDeviceDelegation(stranger, phone.did)] }, [], { as: stranger.did })
    expect(await verdict(judge, strangerSession)).toBe('not-a-writer')
  })
})
