/**
 * What an attacker review of the hostile-entries work found, each judged in memory: a grant
 * copied under another hash, a key that only delegates onward, a stolen key filling its
 * user's room, an admin revoking and inviting again within one second, and a claimed DID
 * that is not the signer's.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { delegateDevice } from '../src/identity/delegated.js'
import { createDidKeyIdentity } from '../src/did/identity.js'
import { createInvite } from '../src/invite/invite.js'
import type { JudgeRules, LoadedEntry } from '../src/judge/judge.js'
import { MAX_KEYS_PER_LINK } from '../src/judge/rules.js'
import { History, verdict } from './history.js'

const founder = createDidKeyIdentity()
const bob = createDidKeyIdentity()
const user = createDidKeyIdentity()
const rules = (extra: Partial<JudgeRules> = {}): JudgeRules => ({ admins: [founder.did], writers: [user.did], mutable: true, ownership: false, version: 2, ...extra })

/** The same signed entry under another hash: a field beside the signed ones. */
async function padded (h: History, entry: LoadedEntry): Promise<LoadedEntry> {
  const { hash: _, ...body } = entry as LoadedEntry & Record<string, unknown>
  const copy = { ...body, x: 1 }
  const hash = CID.create(1, dagCbor.code, await sha256.digest(dagCbor.encode(copy))).toString(base58btc)
  const loaded = { ...copy, hash } as unknown as LoadedEntry
  h.entries.set(hash, loaded)
  return loaded
}

describe('an attacker review of the hostile-entries rules', () => {
  it('a copy of a grant under another hash is refused, so a revocation stays final', async () => {
    const h = new History()
    const grant = await h.acl(founder, { action: 'grant', role: 'writer', did: bob.did })
    const revoke = await h.acl(founder, { action: 'revoke', role: 'writer', did: bob.did }, [grant.hash])
    const copy = await padded(h, grant)
    const write = await h.put(bob, 'k', 'back again', [revoke.hash, copy.hash])
    const judge = h.judge(rules())
    expect(await verdict(judge, revoke)).toBe('accepted')
    expect(await verdict(judge, copy)).toBe('malformed-entry')
    expect(await verdict(judge, write)).toBe('rejected-past')
    expect((await judge.stateAt([revoke.hash])).writers.has(bob.did)).toBe(false)
  })

  it('a device key that only delegates onward is taken back, and every key below it with it', async () => {
    const h = new History()
    const device = createDidKeyIdentity()
    const session = createDidKeyIdentity()
    const proof = [await delegateDevice(user, device.did, { expiresIn: 3_600_000 }), await delegateDevice(device, session.did, { expiresIn: 3_600_000 })]
    const register = await h.acl(session, { action: 'session', proof, at: Date.now() }, [], { as: user.did })
    const revoke = await h.acl(user, { action: 'revoke-device', did: device.did, at: Date.now() }, [register.hash])
    const after = await h.write(session, { op: 'PUT', key: 'k', value: 'after', at: Date.now() }, [revoke.hash], { as: user.did })
    const judge = h.judge(rules())
    expect(await verdict(judge, register)).toBe('accepted')
    expect(await verdict(judge, revoke)).toBe('accepted')
    expect(await verdict(judge, after)).toBe('device-revoked')
  })

  it(`a stolen key registers at most ${MAX_KEYS_PER_LINK} keys under its own delegation; its user signs in anew and takes it back`, async () => {
    const h = new History()
    const stolen = createDidKeyIdentity()
    const stolenLink = await delegateDevice(user, stolen.did, { expiresIn: 3_600_000 })
    let parents = [(await h.acl(stolen, { action: 'session', proof: [stolenLink], at: Date.now() }, [], { as: user.did })).hash]
    const judge = h.judge(rules())
    const verdicts: string[] = []
    for (let i = 0; i < MAX_KEYS_PER_LINK; i++) {
      const sub = createDidKeyIdentity()
      const entry = await h.acl(sub, { action: 'session', proof: [stolenLink, await delegateDevice(stolen, sub.did, { expiresIn: 3_600_000 })], at: Date.now() }, parents, { as: user.did })
      verdicts.push(await verdict(judge, entry))
      if (verdicts.at(-1) === 'accepted') parents = [entry.hash]
    }
    // The stolen key's own registration counts too: its link's room is full one short of the loop.
    expect(verdicts.slice(0, MAX_KEYS_PER_LINK - 1).every((v) => v === 'accepted')).toBe(true)
    expect(verdicts.at(-1)).toBe('invalid-operation')
    const fresh = createDidKeyIdentity()
    // A new sign-in: a link from the user later than the stolen one (which started a minute ago).
    const signIn = await h.acl(fresh, { action: 'session', proof: [await delegateDevice(user, fresh.did, { expiresIn: 3_600_000, notBefore: Date.now() })], at: Date.now() }, parents, { as: user.did })
    expect(await verdict(judge, signIn)).toBe('accepted')
    const takeBack = await h.acl(fresh, { action: 'revoke-device', did: stolen.did, at: Date.now() }, [signIn.hash], { as: user.did })
    expect(await verdict(judge, takeBack)).toBe('accepted')
  })

  it('an admin that revokes and invites again within one second is not undone', async () => {
    const h = new History()
    const grant = await h.acl(founder, { action: 'grant', role: 'writer', did: bob.did })
    const revoke = await h.acl(founder, { action: 'revoke', role: 'writer', did: bob.did, at: Date.now() - 1 }, [grant.hash])
    const token = await createInvite(founder, { address: h.address, audience: bob.did, role: 'writer' })
    const redeem = await h.acl(bob, { action: 'redeem', token, at: Date.now() }, [revoke.hash])
    const judge = h.judge(rules())
    expect(await verdict(judge, redeem)).toBe('accepted')
  })

  it('a member is known only through its own key or a key it registered', async () => {
    const h = new History()
    const put = await h.put(user, 'k', 'v')
    const judge = h.judge(rules())
    expect(await verdict(judge, put)).toBe('accepted')
    expect(judge.isMember(user.did)).toBe(true)
    expect(judge.isMember(user.did, createDidKeyIdentity().did)).toBe(false)
    expect(judge.isMember(bob.did)).toBe(false)
  })
})
