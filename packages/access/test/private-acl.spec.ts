/**
 * Private databases with an ACL, judged without a network: readers, key epochs started by
 * revocations, shares for new members, and the entries a replica must refuse. Real keys,
 * real JWEs, real ciphers; every replica judges without opening a value.
 */
import { describe, expect, it } from 'vitest'
import { createDidKeyIdentity, type DidKeyIdentity } from '../src/did/identity.js'
import { createInvite } from '../src/invite/invite.js'
import type { Judge, JudgeRules, LoadedEntry } from '../src/judge/judge.js'
import { POLICY_SHARE } from '../src/private/database-keys.js'
import { shareKey } from '../src/private/epoch-keys.js'
import { epochLabel, Keyring } from '../src/private/keyring.js'
import { keyExposed } from '../src/private/key-holders.js'
import { epochField } from '../src/private/sealed-value.js'
import { newKey, open, seal } from '../src/private/sealed.js'
import { GENESIS_EPOCH } from '../src/policy/share-shape.js'
import { ACL_TYPE, type PrivateField, policyBlock, WRITERS_TYPE } from '../src/policy/policy-block.js'
import { createDeviceDelegation } from '../src/delegation/device.js'
import { History, verdict } from './history.js'
import { walletCacao, walletDid } from './wallet.js'
import { resourceOf } from '../src/delegation/cacao.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const [alice, bob, carol, dave] = [createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity()] as [DidKeyIdentity, DidKeyIdentity, DidKeyIdentity, DidKeyIdentity]

/** Alice founds it; Bob reads from the start. */
async function database (): Promise<{ h: History, rules: JudgeRules, privacy: PrivateField, author: Judge, ring: (who: DidKeyIdentity, judge?: Judge) => Keyring }> {
  const h = new History()
  const privacy: PrivateField = { readers: [bob.did], share: await shareKey(newKey(), [alice.did, bob.did], POLICY_SHARE) as never }
  const rules: JudgeRules = { admins: [alice.did], writers: [], readers: [bob.did], mutable: true, ownership: false, private: true }
  const author = h.judge(rules)
  const ring = (who: DidKeyIdentity, judge = author): Keyring => new Keyring(who, h.address, privacy, () => judge.keys)
  return { h, rules, privacy, author, ring }
}

/** Judge `entry` with the author's replica (it must be accepted there), and return it. */
async function accepted (author: Judge, entry: Promise<LoadedEntry>): Promise<LoadedEntry> {
  const e = await entry
  expect(await verdict(author, e)).toBe('accepted')
  return e
}

async function sealedPut (h: History, author: Judge, ring: Keyring, by: DidKeyIdentity, key: string, value: string, parents: string[], epochs?: string[]): Promise<LoadedEntry> {
  const current = epochs ?? (await author.stateAt(parents)).epochs
  const sealed = seal(await ring.sealingKey(current), text(value), { address: h.address, epoch: epochLabel(current), record: key })
  return h.write(by, { op: 'PUT', key, value: { v: 1, ...sealed, ...epochField(current) } }, parents)
}

/** The value `ring` reads from a PUT entry, or undefined when it holds no key for it. */
async function readWith (h: History, ring: Keyring, entry: LoadedEntry): Promise<string | undefined> {
  const p = entry.payload as { key: string, value: { nonce: Uint8Array, ciphertext: Uint8Array, e?: string[] } }
  const epochs = p.value.e ?? [GENESIS_EPOCH]
  try {
    return new TextDecoder().decode(open(await ring.sealingKey(epochs), p.value, { address: h.address, epoch: epochLabel(epochs), record: p.key }))
  } catch {
    return undefined
  }
}

describe('private database with an ACL', () => {
  it('a revocation starts an epoch: the revoked reader reads what came before and concurrently, nothing after; a new member reads it all', async () => {
    const { h, rules, author, ring } = await database()
    const aliceRing = ring(alice)
    const before = await accepted(author, sealedPut(h, author, aliceRing, alice, 'k', 'before', []))
    const rekey = await aliceRing.rekey([alice.did], (await author.stateAt([before.hash])).epochs)
    const revoke = await accepted(author, h.acl(alice, { action: 'revoke', role: 'reader', did: bob.did, rekey }, [before.hash]))
    const concurrent = await accepted(author, sealedPut(h, author, aliceRing, alice, 'k', 'concurrent', [before.hash]))
    const after = await accepted(author, sealedPut(h, author, aliceRing, alice, 'k', 'after', [revoke.hash]))
    expect((await author.stateAt([after.hash])).epochs).toEqual([revoke.hash])

    // Carol joins after the revocation: a grant carries the current key for her.
    const keys = await aliceRing.sharesFor([carol.did], (await author.stateAt([after.hash])).epochs)
    const grant = await accepted(author, h.acl(alice, { action: 'grant', role: 'reader', did: carol.did, keys }, [after.hash, concurrent.hash]))

    // A fresh replica, not a member, agrees on every verdict in another order.
    const fresh = h.judge(rules)
    for (const e of [grant, after, concurrent, revoke, before]) expect(await verdict(fresh, e)).toBe('accepted')

    const bobRing = ring(bob, fresh)
    expect(await readWith(h, bobRing, before)).toBe('before')
    expect(await readWith(h, bobRing, concurrent)).toBe('concurrent')
    expect(await readWith(h, bobRing, after)).toBeUndefined()
    await expect(bobRing.epochKey(revoke.hash)).rejects.toMatchObject({ name: 'DecryptionError' })
    // Every key Bob ever held fails on the value written after his revocation.
    const held = [await bobRing.epochKey(GENESIS_EPOCH), await bobRing.sealingKey([GENESIS_EPOCH])]
    const p = after.payload as { value: { nonce: Uint8Array, ciphertext: Uint8Array } }
    for (const key of held) {
      for (const epoch of [0, revoke.hash]) expect(() => open(key, p.value, { address: h.address, epoch, record: 'k' })).toThrow()
    }

    const carolRing = ring(carol, fresh)
    expect(await readWith(h, carolRing, after)).toBe('after')
    expect(await readWith(h, carolRing, before)).toBe('before')
  })

  it('rejects a stale epoch, a revocation without a new key, shares from a non-admin or for a non-member, a reader\'s write', async () => {
    const { h, rules, author, ring } = await database()
    const aliceRing = ring(alice)
    const rekey = await aliceRing.rekey([alice.did], [GENESIS_EPOCH])
    const revoke = await accepted(author, h.acl(alice, { action: 'revoke', role: 'reader', did: bob.did, rekey }, []))
    const fresh = h.judge(rules)

    const stale = await sealedPut(h, author, aliceRing, alice, 'k', 'stale', [revoke.hash], [GENESIS_EPOCH])
    expect(await verdict(fresh, stale)).toBe('stale-key')
    const bare = await h.acl(alice, { action: 'revoke', role: 'reader', did: bob.did }, [])
    expect(await verdict(fresh, bare)).toBe('invalid-operation')
    // The new key must go to exactly the members that remain: not to the revoked reader too.
    const leaky = await h.acl(alice, { action: 'revoke', role: 'reader', did: bob.did, rekey: await aliceRing.rekey([alice.did, bob.did], [GENESIS_EPOCH]) }, [])
    expect(await verdict(fresh, leaky)).toBe('invalid-operation')
    const keys = await aliceRing.sharesFor([dave.did], [revoke.hash])
    const outsider = await h.acl(alice, { action: 'share', keys }, [revoke.hash])
    expect(await verdict(fresh, outsider)).toBe('invalid-operation')
    const byReader = await h.acl(bob, { action: 'share', keys: await aliceRing.sharesFor([alice.did], [GENESIS_EPOCH]) }, [])
    expect(await verdict(fresh, byReader)).toBe('not-an-admin')
    const grantForOther = await h.acl(alice, { action: 'grant', role: 'reader', did: carol.did, keys: await aliceRing.sharesFor([dave.did], [revoke.hash]) }, [revoke.hash])
    expect(await verdict(fresh, grantForOther)).toBe('invalid-operation')
    const readerWrite = await sealedPut(h, author, ring(bob), bob, 'k', 'mine', [], [GENESIS_EPOCH])
    expect(await verdict(fresh, readerWrite)).toBe('not-a-writer')
    const plain = await h.write(alice, { op: 'PUT', key: 'k', value: 'in clear' }, [revoke.hash])
    expect(await verdict(fresh, plain)).toBe('invalid-operation')
    // The replica holds only what it accepted.
    expect(await verdict(fresh, revoke)).toBe('accepted')
  })

  it('concurrent rotations: new values need both keys; a member granted concurrently gets the other one from a share', async () => {
    const { h, author, ring, rules } = await database()
    const aliceRing = ring(alice)
    const grantCarol = await accepted(author, h.acl(alice, { action: 'grant', role: 'writer', did: carol.did, keys: await aliceRing.sharesFor([carol.did], [GENESIS_EPOCH]) }, []))
    const r1 = await accepted(author, h.acl(alice, { action: 'rotate-key', rekey: await aliceRing.rekey([alice.did, bob.did, carol.did], [GENESIS_EPOCH]) }, [grantCarol.hash]))
    const r2 = await accepted(author, h.acl(alice, { action: 'revoke', role: 'reader', did: bob.did, rekey: await aliceRing.rekey([alice.did], [GENESIS_EPOCH]) }, []))
    const merged = (await author.stateAt([r1.hash, r2.hash]))
    expect(merged.epochs).toEqual([r1.hash, r2.hash].sort())
    // Carol, granted concurrently with r2, lacks its key: an admin sees it and shares it.
    expect([...(merged.keyHolders.get(r2.hash) ?? [])]).toEqual([alice.did])
    const carolRing = ring(carol)
    await expect(carolRing.sealingKey(merged.epochs)).rejects.toMatchObject({ name: 'DecryptionError' })
    const share = await accepted(author, h.acl(alice, { action: 'share', keys: await aliceRing.sharesFor([carol.did], [r2.hash]) }, [r1.hash, r2.hash]))
    const byCarol = await accepted(author, sealedPut(h, author, carolRing, carol, 'k', 'both', [share.hash]))
    expect((byCarol.payload as { value: { e: string[] } }).value.e).toEqual(merged.epochs)
    expect(await verdict(h.judge(rules), byCarol)).toBe('accepted')
    expect(await readWith(h, ring(bob), byCarol)).toBeUndefined()
    expect(await readWith(h, aliceRing, byCarol)).toBe('both')
  })

  it('an invite carries the current key: the invitee reads as soon as it redeems', async () => {
    const { h, author, ring, rules } = await database()
    const aliceRing = ring(alice)
    const put = await accepted(author, sealedPut(h, author, aliceRing, alice, 'k', 'hello', []))
    const token = await createInvite(alice, { address: h.address, audience: dave.did, role: 'reader', expiresIn: 60_000, keys: await aliceRing.sharesFor([dave.did], [GENESIS_EPOCH]) })
    const redeem = await accepted(author, h.acl(dave, { action: 'redeem', token }, [put.hash]))
    const fresh = h.judge(rules)
    expect(await verdict(fresh, redeem)).toBe('accepted')
    expect([...(await fresh.stateAt([redeem.hash])).readers].sort()).toEqual([bob.did, dave.did].sort())
    expect(await readWith(h, ring(dave, fresh), put)).toBe('hello')
    // An invite whose keys are wrapped for someone else is refused.
    const wrong = await createInvite(alice, { address: h.address, audience: carol.did, role: 'reader', expiresIn: 60_000, keys: await aliceRing.sharesFor([dave.did], [GENESIS_EPOCH]) })
    expect(await verdict(fresh, await h.acl(carol, { action: 'redeem', token: wrong }, [put.hash]))).toBe('invalid-invite')
  })

  it('a policy block whose key share is not wrapped for exactly the members it names is refused', async () => {
    const members = [alice.did, bob.did].sort()
    const block = async (wrappedFor: string[]): Promise<unknown> => ({ type: ACL_TYPE, admins: [alice.did], writers: [], private: { readers: [bob.did], share: await shareKey(newKey(), wrappedFor, POLICY_SHARE) } })
    expect(policyBlock(await block(members), 'ok').private?.readers).toEqual([bob.did])
    for (const wrong of [[alice.did], [...members, carol.did]]) {
      const bad = await block(wrong)
      expect(() => policyBlock(bad, 'policy')).toThrow(expect.objectContaining({ name: 'InvalidPolicyError' }))
    }
    const fixed = { type: WRITERS_TYPE, writers: [alice.did], private: { readers: [], share: await shareKey(newKey(), [alice.did, dave.did], POLICY_SHARE) } }
    expect(() => policyBlock(fixed, 'fixed')).toThrow(/exactly the members/)
  })

  it('ownership is judged on blinded keys with an ACL too: a writer cannot overwrite a record another created', async () => {
    const { h, author, ring } = await database()
    const aliceRing = ring(alice)
    const owned = h.judge({ admins: [alice.did], writers: [], readers: [bob.did], mutable: true, ownership: true, private: true })
    const grant = await h.acl(alice, { action: 'grant', role: 'writer', did: carol.did, keys: await aliceRing.sharesFor([carol.did], [GENESIS_EPOCH]) })
    expect(await verdict(author, grant)).toBe('accepted')
    const mine = await sealedPut(h, author, aliceRing, alice, 'blinded-k', 'alice', [grant.hash])
    const theirs = await sealedPut(h, author, ring(carol), carol, 'blinded-k', 'carol', [mine.hash])
    const own = await sealedPut(h, author, ring(carol), carol, 'blinded-other', 'carol', [mine.hash])
    expect(await verdict(owned, theirs)).toBe('not-the-owner')
    expect(await verdict(owned, own)).toBe('accepted')
  })

  it('a member\'s registered device may be handed keys, an unregistered key may not; revoking a device needs a new key', async () => {
    const { h, author, ring, rules } = await database()
    const aliceRing = ring(alice)
    const phone = createDidKeyIdentity()
    const register = await accepted(author, h.acl(phone, { action: 'session', at: Date.now(), proof: [await createDeviceDelegation(bob, phone.did)] }, [], { as: bob.did }))
    const fresh = h.judge(rules)
    expect(await verdict(fresh, await h.acl(alice, { action: 'share', keys: await aliceRing.sharesFor([phone.did], [GENESIS_EPOCH]) }, [register.hash]))).toBe('accepted')
    expect(await verdict(fresh, await h.acl(alice, { action: 'share', keys: await aliceRing.sharesFor([phone.did], [GENESIS_EPOCH]) }, []))).toBe('invalid-operation')
    expect(await verdict(fresh, await h.acl(bob, { action: 'revoke-device', did: phone.did, at: Date.now() }, [register.hash]))).toBe('invalid-operation')
    const rekey = await ring(bob).rekey([alice.did, bob.did], [GENESIS_EPOCH])
    expect(await verdict(fresh, await h.acl(bob, { action: 'revoke-device', did: phone.did, at: Date.now(), rekey }, [register.hash]))).toBe('accepted')
    // With a fixed set of members there is one key: a revocation stops the device's writes and rotates nothing.
    const fixed = h.judge({ ...rules, mutable: false, admins: [], writers: [alice.did] })
    expect(await verdict(fixed, await h.acl(bob, { action: 'revoke-device', did: phone.did, at: Date.now(), rekey }, []))).toBe('invalid-operation')
    expect(await verdict(fixed, await h.acl(alice, { action: 'revoke-device', did: phone.did, at: Date.now() }, []))).toBe('accepted')
  })

  it('a wallet member (did:pkh) holds no key: granted without keys, its sessions are handed them, a rotation wraps for them in its place, and its invite is wrapped for the session that redeems', async () => {
    const { h, author, ring, rules } = await database()
    const aliceRing = ring(alice)
    const here = { resources: [resourceOf(h.address)] }
    const put = await accepted(author, sealedPut(h, author, aliceRing, alice, 'k', 'hello', []))
    // A grant of a wallet carries no keys; one that carries some (wrapped for a kid naming the wallet) is refused.
    expect(await verdict(author, await h.acl(alice, { action: 'grant', role: 'reader', did: walletDid, keys: await aliceRing.sharesFor([dave.did], [GENESIS_EPOCH]) }, [put.hash]))).toBe('invalid-operation')
    const grant = await accepted(author, h.acl(alice, { action: 'grant', role: 'reader', did: walletDid }, [put.hash]))
    const session = createDidKeyIdentity()
    const register = await accepted(author, h.acl(session, { action: 'session', at: Date.now(), proof: [await walletCacao(session.did, here)] }, [grant.hash], { as: walletDid }))
    const share = await accepted(author, h.acl(alice, { action: 'share', keys: await aliceRing.sharesFor([session.did], [GENESIS_EPOCH]) }, [register.hash]))
    expect(await readWith(h, ring(session), put)).toBe('hello')
    // A rotation wraps for every member that holds keys, and may wrap for the wallet's live session too; no one else.
    const members = [alice.did, bob.did]
    expect(await verdict(author, await h.acl(alice, { action: 'rotate-key', rekey: await aliceRing.rekey(members, [GENESIS_EPOCH]) }, [share.hash]))).toBe('accepted')
    for (const wrong of [[alice.did, session.did], [...members, carol.did]]) {
      expect(await verdict(author, await h.acl(alice, { action: 'rotate-key', rekey: await aliceRing.rekey(wrong, [GENESIS_EPOCH]) }, [share.hash]))).toBe('invalid-operation')
    }
    // Not for a session whose delegation has expired by the rotation's own time.
    const expired = createDidKeyIdentity()
    const old = await accepted(author, h.acl(expired, { action: 'session', at: Date.now(), proof: [await walletCacao(expired.did, { ...here, expiresIn: 60_000 })] }, [share.hash], { as: walletDid }))
    expect(await verdict(author, await h.acl(alice, { action: 'rotate-key', at: Date.now() + 120_000, rekey: await aliceRing.rekey([...members, expired.did].sort(), [GENESIS_EPOCH]) }, [old.hash]))).toBe('invalid-operation')
    const rotate = await accepted(author, h.acl(alice, { action: 'rotate-key', rekey: await aliceRing.rekey([...members, session.did].sort(), [GENESIS_EPOCH]) }, [share.hash]))
    const after = await accepted(author, sealedPut(h, author, aliceRing, alice, 'k2', 'after the rotation', [rotate.hash]))
    expect(await readWith(h, ring(session), after)).toBe('after the rotation')
    // Revoking the wallet: the new key is for the others only, and its session reads nothing written after.
    const revoke = await accepted(author, h.acl(alice, { action: 'revoke', role: 'reader', did: walletDid, rekey: await aliceRing.rekey(members, [rotate.hash]) }, [after.hash]))
    const last = await accepted(author, sealedPut(h, author, aliceRing, alice, 'k3', 'after the wallet left', [revoke.hash]))
    expect(await readWith(h, ring(session), last)).toBeUndefined()
    // Invited: the keys are wrapped for the session that redeems, which registers with the same entry.
    const other = createDidKeyIdentity()
    const fresh = h.judge(rules)
    const token = await createInvite(alice, { address: h.address, audience: walletDid, role: 'reader', expiresIn: 60_000, keys: await aliceRing.sharesFor([other.did], [GENESIS_EPOCH]) })
    const redeem = await h.acl(other, { action: 'redeem', token, at: Date.now(), proof: [await walletCacao(other.did, here)] }, [put.hash], { as: walletDid })
    expect(await verdict(fresh, redeem)).toBe('accepted')
    expect(await readWith(h, ring(other, fresh), put)).toBe('hello')
    // Another session of the same wallet cannot redeem keys wrapped for that one, even from a past that lacks their epoch.
    const third = createDidKeyIdentity()
    const stolen = await h.acl(third, { action: 'redeem', token, at: Date.now(), proof: [await walletCacao(third.did, here)] }, [put.hash], { as: walletDid })
    expect(await verdict(h.judge(rules), stolen)).toBe('invalid-invite')
    const later = await createInvite(alice, { address: h.address, audience: walletDid, role: 'reader', expiresIn: 60_000, keys: await aliceRing.sharesFor([other.did], [rotate.hash]) })
    expect(await verdict(h.judge(rules), await h.acl(third, { action: 'redeem', token: later, at: Date.now(), proof: [await walletCacao(third.did, here)] }, [], { as: walletDid }))).toBe('invalid-invite')
  })

  it('a key two users registered, taken back by one, still stands for the other: no rotation is asked for (the courier would rotate for ever)', async () => {
    const { h, rules, ring: ringFor } = await database()
    // Rules version 2: a member's device revocation carries no key; an admin's node rotates when a revoked key holds one.
    const author = h.judge({ ...rules, version: 2 })
    const ring = (who: DidKeyIdentity): Keyring => ringFor(who, author)
    const aliceRing = ring(alice)
    const here = { resources: [resourceOf(h.address)] }
    const grant = await accepted(author, h.acl(alice, { action: 'grant', role: 'reader', did: walletDid }, []))
    const shared = createDidKeyIdentity()
    const asWallet = await accepted(author, h.acl(shared, { action: 'session', at: Date.now(), proof: [await walletCacao(shared.did, here)] }, [grant.hash], { as: walletDid }))
    const asBob = await accepted(author, h.acl(shared, { action: 'session', at: Date.now(), proof: [await createDeviceDelegation(bob, shared.did)] }, [asWallet.hash], { as: bob.did }))
    const share = await accepted(author, h.acl(alice, { action: 'share', keys: await aliceRing.sharesFor([shared.did], [GENESIS_EPOCH]) }, [asBob.hash]))
    const revoked = await accepted(author, h.acl(bob, { action: 'revoke-device', did: shared.did, at: Date.now() }, [share.hash]))
    // Still the wallet's live key: a rotation would have to offer it the new key again.
    expect(keyExposed(await author.stateAt([revoked.hash]), Date.now())).toBe(false)
    const state = await author.stateAt([revoked.hash])
    // A key taken back by its only user, holding a current key, does ask for one.
    const phone = createDidKeyIdentity()
    const register = await accepted(author, h.acl(phone, { action: 'session', at: Date.now(), proof: [await createDeviceDelegation(bob, phone.did)] }, [revoked.hash], { as: bob.did }))
    const handed = await accepted(author, h.acl(alice, { action: 'share', keys: await aliceRing.sharesFor([phone.did], state.epochs) }, [register.hash]))
    const gone = await accepted(author, h.acl(bob, { action: 'revoke-device', did: phone.did, at: Date.now() }, [handed.hash]))
    expect(keyExposed(await author.stateAt([gone.hash]), Date.now())).toBe(true)
  })

  it('readers and key operations are refused in a database that is not private', async () => {
    const h = new History()
    const judge = h.judge({ admins: [alice.did], writers: [], mutable: true, ownership: false })
    expect(await verdict(judge, await h.acl(alice, { action: 'grant', role: 'reader', did: bob.did }))).toBe('invalid-operation')
  })
})
