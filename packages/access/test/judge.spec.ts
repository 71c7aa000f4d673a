import { defineSchema, s, type Schema } from '@didbase/schemas'
import { describe, expect, it } from 'vitest'
import { createInvite } from '../src/invite/invite.js'
import { createDidKeyIdentity } from '../src/did/identity.js'
import type { JudgeRules } from '../src/judge/judge.js'
import { History, verdict } from './history.js'

const admin = createDidKeyIdentity()
const admin2 = createDidKeyIdentity()
const alice = createDidKeyIdentity()
const bob = createDidKeyIdentity()
const carol = createDidKeyIdentity()

const acl = (extra: Partial<JudgeRules> = {}): JudgeRules => ({ admins: [admin.did, admin2.did], writers: [], mutable: true, ownership: false, ...extra })

describe('judging against the causal past', () => {
  it('accepts a writer granted in the past and rejects one who was not', async () => {
    const h = new History()
    const grant = await h.acl(admin, { action: 'grant', role: 'writer', did: alice.did })
    const byAlice = await h.put(alice, 'k', 1, [grant.hash])
    const byBob = await h.put(bob, 'k', 2, [grant.hash])
    const aliceBlind = await h.put(alice, 'k', 3) // does not link to the grant
    const judge = h.judge(acl())
    expect(await verdict(judge, byAlice)).toBe('accepted')
    expect(await verdict(judge, byBob)).toBe('not-a-writer')
    expect(await verdict(judge, aliceBlind)).toBe('not-a-writer')
  })

  it('refuses grants by a non-admin and access operations on a fixed writer set', async () => {
    const h = new History()
    const selfGrant = await h.acl(alice, { action: 'grant', role: 'admin', did: alice.did })
    expect(await verdict(h.judge(acl()), selfGrant)).toBe('not-an-admin')
    expect(await verdict(h.judge({ ...acl(), mutable: false, writers: [alice.did] }), selfGrant)).toBe('invalid-operation')
  })

  it('revocation: entries linking to it are rejected, earlier and concurrent ones stay valid', async () => {
    const h = new History()
    const grant = await h.acl(admin, { action: 'grant', role: 'writer', did: alice.did })
    const before = await h.put(alice, 'k', 'before', [grant.hash])
    const revoke = await h.acl(admin, { action: 'revoke', role: 'writer', did: alice.did }, [before.hash])
    const concurrent = await h.put(alice, 'k', 'concurrent', [before.hash])
    const after = await h.put(alice, 'k', 'after', [revoke.hash])
    const merged = await h.put(alice, 'k', 'merged', [concurrent.hash, revoke.hash])

    // A fresh replica that syncs only after the revocation still accepts the history before it.
    const fresh = h.judge(acl())
    expect(await verdict(fresh, after)).toBe('not-a-writer')
    expect(await verdict(fresh, before)).toBe('accepted')
    expect(await verdict(fresh, concurrent)).toBe('accepted')
    expect(await verdict(fresh, merged)).toBe('not-a-writer')
  })

  it('keeps both of two concurrent grants by different admins', async () => {
    const h = new History()
    const g1 = await h.acl(admin, { action: 'grant', role: 'writer', did: alice.did })
    const g2 = await h.acl(admin2, { action: 'grant', role: 'writer', did: bob.did })
    const judge = h.judge(acl())
    const state = await judge.stateAt([g1.hash, g2.hash])
    expect([...state.writers].sort()).toEqual([alice.did, bob.did].sort())
  })

  it('a revoke removes only the grants its author had seen (a concurrent re-grant survives)', async () => {
    const h = new History()
    const g1 = await h.acl(admin, { action: 'grant', role: 'writer', did: alice.did })
    const revoke = await h.acl(admin2, { action: 'revoke', role: 'writer', did: alice.did }, [g1.hash])
    const g2 = await h.acl(admin, { action: 'grant', role: 'writer', did: alice.did }, [g1.hash])
    const judge = h.judge(acl())
    expect((await judge.stateAt([revoke.hash])).writers.has(alice.did)).toBe(false)
    expect((await judge.stateAt([revoke.hash, g2.hash])).writers.has(alice.did)).toBe(true)
  })

  it('revoking an admin stops their grants; admins named at creation cannot be revoked', async () => {
    const h = new History()
    const promote = await h.acl(admin, { action: 'grant', role: 'admin', did: alice.did })
    const demote = await h.acl(admin, { action: 'revoke', role: 'admin', did: alice.did }, [promote.hash])
    const grant = await h.acl(alice, { action: 'grant', role: 'writer', did: bob.did }, [demote.hash])
    const coup = await h.acl(admin2, { action: 'revoke', role: 'admin', did: admin.did })
    const judge = h.judge(acl())
    expect(await verdict(judge, grant)).toBe('not-an-admin')
    expect(await verdict(judge, coup)).toBe('invalid-operation')
  })

  it('a revoked admin\'s operations on a branch concurrent with its revocation have no effect', async () => {
    const h = new History()
    const promote = await h.acl(admin, { action: 'grant', role: 'admin', did: alice.did })
    const demote = await h.acl(admin, { action: 'revoke', role: 'admin', did: alice.did }, [promote.hash])
    // Alice signs on top of the promotion, as if she had not seen the revocation.
    const selfGrant = await h.acl(alice, { action: 'grant', role: 'admin', did: alice.did }, [promote.hash])
    const grantsBob = await h.acl(alice, { action: 'grant', role: 'writer', did: bob.did }, [promote.hash])
    const token = await createInvite(alice, { address: h.address, audience: carol.did })
    const carolJoins = await h.acl(carol, { action: 'redeem', token, at: Date.now() }, [promote.hash])
    const merged = await h.acl(alice, { action: 'grant', role: 'writer', did: bob.did }, [demote.hash, grantsBob.hash])
    const judge = h.judge(acl())
    expect(await verdict(judge, selfGrant)).toBe('not-an-admin') // only founders manage admins
    expect(await verdict(judge, grantsBob)).toBe('accepted') // valid in its own past...
    expect(await verdict(judge, carolJoins)).toBe('accepted')
    const state = await judge.stateAt([demote.hash, grantsBob.hash, carolJoins.hash])
    expect(state.admins.has(alice.did)).toBe(false) // ...but void once the revocation is known
    expect(state.writers.has(bob.did)).toBe(false)
    expect(state.writers.has(carol.did)).toBe(false)
    expect(await verdict(judge, merged)).toBe('not-an-admin')
  })

  it('rejects a clock that does not move forward, and everything linking to a rejected entry', async () => {
    const h = new History()
    const first = await h.put(admin, 'k', 1)
    const stale = await h.write(admin, { op: 'PUT', key: 'k', value: 2 }, [first.hash], { time: first.clock.time })
    const child = await h.put(admin, 'k', 3, [stale.hash])
    const judge = h.judge(acl())
    expect(await verdict(judge, stale)).toBe('invalid-clock')
    expect(await verdict(judge, child)).toBe('rejected-past')
  })

  it('an operation dated in the future blocks no one', async () => {
    const h = new History()
    const future = await h.acl(admin, { action: 'grant', role: 'writer', did: bob.did, at: Number.MAX_SAFE_INTEGER })
    const revoke = await h.acl(admin, { action: 'revoke', role: 'writer', did: bob.did, at: 1000 }, [future.hash])
    const token = await createInvite(admin, { address: h.address, audience: alice.did })
    const redeem = await h.acl(alice, { action: 'redeem', token, at: Date.now() }, [revoke.hash])
    const judge = h.judge(acl())
    expect(await verdict(judge, revoke)).toBe('accepted')
    expect(await verdict(judge, redeem)).toBe('accepted')
  })

  it('checks the signature before fetching the past, and refuses aliased or non-hash links', async () => {
    const h = new History()
    const first = await h.put(admin, 'k', 1)
    const missing = await h.put(admin, 'k', 2, [first.hash])
    h.entries.delete(first.hash)
    const unsigned = { ...missing, sig: missing.sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }
    const judge = h.judge(acl())
    expect(await verdict(judge, unsigned)).toBe('bad-signature')
    h.entries.set(first.hash, first)
    const { CID } = await import('multiformats/cid')
    const { base32 } = await import('multiformats/bases/base32')
    const alias = CID.parse(first.hash, (await import('multiformats/bases/base58')).base58btc).toString(base32)
    expect(await verdict(judge, await h.put(admin, 'k', 3, [alias]))).toBe('malformed-entry')
    expect(await verdict(judge, await h.put(admin, 'k', 4, ['not a hash']))).toBe('malformed-entry')
  })

  it('refuses values that are not plain data: a decoded __proto__ key, or nesting past the limit', async () => {
    const h = new History()
    const { decode, encode } = await import('@ipld/dag-cbor')
    const polluted = decode(encode({ ok: true, ['__proto__']: { isAdmin: true } }))
    let deep: unknown = 'leaf'
    for (let i = 0; i < 200; i++) deep = [deep]
    const judge = h.judge(acl({ writers: ['*'] }))
    expect(await verdict(judge, await h.write(alice, { op: 'PUT', key: 'k', value: { nested: polluted } }))).toBe('invalid-operation')
    expect(await verdict(judge, await h.write(alice, { op: 'ADD', key: null, value: deep }))).toBe('invalid-operation')
    expect(await verdict(judge, await h.write(alice, { op: 'PUT', key: 'k', value: { fine: [1, 2, { x: null }] } }))).toBe('accepted')
  })

  it('gives a verdict, not an exception, for payloads dag-cbor decodes to BigInts', async () => {
    const h = new History()
    expect(await verdict(h.judge(acl()), await h.write(admin, { op: 2n ** 60n }))).toBe('invalid-operation')
    const bigRole = await h.write(admin, { op: 'ACL', key: null, value: { action: 'grant', role: 2n ** 60n, did: alice.did, at: 1 } })
    expect(await verdict(h.judge(acl()), bigRole)).toBe('invalid-operation')
  })

  it('reports an entry whose past cannot be loaded as unavailable, and judges it once it can', async () => {
    const h = new History()
    const first = await h.put(admin, 'k', 1)
    const second = await h.put(admin, 'k', 2, [first.hash])
    h.entries.delete(first.hash)
    const judge = h.judge(acl())
    expect(await verdict(judge, second)).toBe('unavailable')
    h.entries.set(first.hash, first)
    expect(await verdict(judge, second)).toBe('accepted')
  })
})

describe('per-record ownership', () => {
  const rules = acl({ ownership: true, writers: [alice.did, bob.did] })

  it('lets the creator and admins change a record, and no other writer', async () => {
    const h = new History()
    const created = await h.put(alice, 'note', 'by alice')
    const edit = await h.put(alice, 'note', 'edited', [created.hash])
    const takeover = await h.put(bob, 'note', 'by bob', [edit.hash])
    const deleteByBob = await h.write(bob, { op: 'DEL', key: 'note', value: null }, [edit.hash])
    const moderated = await h.put(admin, 'note', 'moderated', [edit.hash])
    const own = await h.put(bob, 'other', 'bob\'s', [edit.hash])
    const judge = h.judge(rules)
    expect(await verdict(judge, edit)).toBe('accepted')
    expect(await verdict(judge, takeover)).toBe('not-the-owner')
    expect(await verdict(judge, deleteByBob)).toBe('not-the-owner')
    expect(await verdict(judge, moderated)).toBe('accepted')
    expect(await verdict(judge, own)).toBe('accepted')
  })

  it('a record created concurrently by two DIDs can then be changed by admins only', async () => {
    const h = new History()
    const a = await h.put(alice, 'race', 'alice')
    const b = await h.put(bob, 'race', 'bob')
    const aliceAgain = await h.put(alice, 'race', 'alice 2', [a.hash, b.hash])
    const adminFix = await h.put(admin, 'race', 'settled', [a.hash, b.hash])
    const judge = h.judge(rules)
    expect(await verdict(judge, a)).toBe('accepted')
    expect(await verdict(judge, b)).toBe('accepted')
    expect(await verdict(judge, aliceAgain)).toBe('not-the-owner')
    expect(await verdict(judge, adminFix)).toBe('accepted')
  })
})

describe('invites', () => {
  async function setup (options: { expiresIn?: number, issuer?: typeof admin, audience?: string, address?: string } = {}) {
    const h = new History()
    const token = await createInvite(options.issuer ?? admin, { address: options.address ?? h.address, audience: options.audience ?? alice.did, expiresIn: options.expiresIn ?? 60_000 })
    return { h, token }
  }

  it('a redeemed invite makes the audience a writer', async () => {
    const { h, token } = await setup()
    const redeem = await h.acl(alice, { action: 'redeem', token, at: Date.now() })
    const write = await h.put(alice, 'k', 'hello', [redeem.hash])
    const judge = h.judge(acl())
    expect(await verdict(judge, write)).toBe('accepted')
  })

  it('refuses an invite redeemed by another DID, for another database, or issued by a non-admin', async () => {
    const stolen = await setup()
    const byBob = await stolen.h.acl(bob, { action: 'redeem', token: stolen.token, at: Date.now() })
    expect(await verdict(stolen.h.judge(acl()), byBob)).toBe('invalid-invite')

    const other = await setup({ address: '/orbitdb/zdpuSomeOtherDatabase' })
    const replayed = await other.h.acl(alice, { action: 'redeem', token: other.token, at: Date.now() })
    expect(await verdict(other.h.judge(acl()), replayed)).toBe('invalid-invite')

    const forged = await setup({ issuer: bob })
    const byNonAdmin = await forged.h.acl(alice, { action: 'redeem', token: forged.token, at: Date.now() })
    expect(await verdict(forged.h.judge(acl()), byNonAdmin)).toBe('invalid-invite')
  })

  it('judges expiry at the redeeming entry\'s own time, the same on every replica', async () => {
    const { h, token } = await setup({ expiresIn: 60_000 })
    const late = await h.acl(alice, { action: 'redeem', token, at: Date.now() + 120_000 })
    expect(await verdict(h.judge(acl()), late)).toBe('invite-expired')
    expect(await verdict(h.judge(acl()), late)).toBe('invite-expired')
  })

  it('an invite is good once: it cannot be redeemed again after the role is revoked', async () => {
    const { h, token } = await setup()
    const redeem = await h.acl(alice, { action: 'redeem', token, at: Date.now() })
    const revoke = await h.acl(admin, { action: 'revoke', role: 'writer', did: alice.did }, [redeem.hash])
    const again = await h.acl(alice, { action: 'redeem', token, at: Date.now() + 1000 }, [revoke.hash])
    expect(await verdict(h.judge(acl()), again)).toBe('invite-used')
  })

  it('revoking a role given by an invite also removes a second redemption kept on a parallel branch', async () => {
    const { h, token } = await setup()
    const first = await h.acl(alice, { action: 'redeem', token, at: Date.now() })
    const kept = await h.acl(alice, { action: 'redeem', token, at: Date.now() + 1 })
    const revoke = await h.acl(admin, { action: 'revoke', role: 'writer', did: alice.did }, [first.hash])
    const write = await h.put(alice, 'k', 'after revocation', [revoke.hash, kept.hash])
    const judge = h.judge(acl())
    expect(await verdict(judge, kept)).toBe('accepted')
    expect(await verdict(judge, write)).toBe('not-a-writer')
  })

  it('only a founding admin may invite an admin', async () => {
    const h = new History()
    const promote = await h.acl(admin, { action: 'grant', role: 'admin', did: bob.did })
    const token = await createInvite(bob, { address: h.address, audience: alice.did, role: 'admin' })
    const redeem = await h.acl(alice, { action: 'redeem', token, at: Date.now() }, [promote.hash])
    expect(await verdict(h.judge(acl()), redeem)).toBe('invalid-invite')
  })

  it('refuses an invite an admin cancelled in the redeemer\'s past, and accepts a concurrent redeem', async () => {
    const { h, token } = await setup()
    const id = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).jti as string
    const cancel = await h.acl(admin, { action: 'cancel-invite', id, at: Date.now() })
    const afterCancel = await h.acl(alice, { action: 'redeem', token, at: Date.now() + 1 }, [cancel.hash])
    const concurrent = await h.acl(alice, { action: 'redeem', token, at: Date.now() })
    const judge = h.judge(acl())
    expect(await verdict(judge, afterCancel)).toBe('invite-cancelled')
    expect(await verdict(judge, concurrent)).toBe('accepted')
  })
})

describe('schema evolution', () => {
  const v1 = defineSchema('Todo', s.struct({ title: s.string() }))
  const v2 = defineSchema('Todo', s.struct({ title: s.string(), done: s.bool() }))

  async function setup () {
    const h = new History()
    const schemas = new Map<string, Schema>()
    for (const schema of [v1, v2]) schemas.set((await schema.cid()).toString(), schema)
    const rules = acl({ schema: v1, writers: [alice.did], loadSchema: async (cid) => schemas.get(cid) as Schema })
    return { h, rules, v2cid: await v2.cid() }
  }

  it('each entry is checked against the schema in force in its causal past', async () => {
    const { h, rules, v2cid } = await setup()
    const old = await h.put(alice, 'a', { title: 'v1 shape' })
    const change = await h.acl(admin, { action: 'set-schema', schema: v2cid }, [old.hash])
    const oldShapeAfter = await h.put(alice, 'b', { title: 'v1 shape' }, [change.hash])
    const newShapeAfter = await h.put(alice, 'c', { title: 'v2 shape', done: true }, [change.hash])
    const concurrent = await h.put(alice, 'd', { title: 'v1 shape, not having seen the change' }, [old.hash])
    const judge = h.judge(rules)
    expect(await verdict(judge, old)).toBe('accepted')
    expect(await verdict(judge, oldShapeAfter)).toBe('schema-mismatch')
    expect(await verdict(judge, newShapeAfter)).toBe('accepted')
    expect(await verdict(judge, concurrent)).toBe('accepted')
    expect((await judge.schemaAt([change.hash]))?.bytes).toEqual(v2.bytes)
    expect((await judge.schemaAt([old.hash]))?.bytes).toEqual(v1.bytes)
  })

  it('only a founding admin changes the schema; concurrent changes resolve the same way everywhere', async () => {
    const { h, rules, v2cid } = await setup()
    const promote = await h.acl(admin, { action: 'grant', role: 'admin', did: bob.did })
    const byBob = await h.acl(bob, { action: 'set-schema', schema: v2cid }, [promote.hash])
    expect(await verdict(h.judge(rules), byBob)).toBe('not-an-admin')
    const a = await h.acl(admin, { action: 'set-schema', schema: v2cid })
    const b = await h.acl(admin2, { action: 'set-schema', schema: await v1.cid() })
    const winner = [a, b].sort((x, y) => (x.hash < y.hash ? -1 : 1))[0] === a ? v2 : v1
    for (const order of [[a, b], [b, a]]) {
      const judge = h.judge(rules)
      for (const e of order) await verdict(judge, e)
      expect((await judge.schemaAt([a.hash, b.hash]))?.bytes).toEqual(winner.bytes)
    }
  })
})
