/**
 * A local write runs the policy once: the judge accepts this replica's own entry from what
 * `check` found for its very payload on the heads it links to, and judges it in full when
 * anything differs. The facts it keeps must be those a judgement reaches: another replica,
 * judging the same entries from scratch, gives every later entry the same verdict.
 */
import { describe, expect, it } from 'vitest'
import { createDidKeyIdentity } from '../src/did/identity.js'
import { Judge, type JudgeRules } from '../src/judge/judge.js'
import { aclPayload } from '../src/policy/operations.js'
import { History, verdict } from './history.js'

const admin = createDidKeyIdentity()
const alice = createDidKeyIdentity()
const bob = createDidKeyIdentity()

const rules: JudgeRules = { admins: [admin.did], writers: [], mutable: true, ownership: true }

function counting (h: History): { judge: Judge, judged: () => number } {
  let judged = 0
  const judge = new Judge(h.address, rules, async (hash) => {
    const entry = h.entries.get(hash)
    if (entry === undefined) throw new Error(`no block ${hash}`)
    return entry
  }, (step) => { if (step === 'judged') judged++ })
  return { judge, judged: () => judged }
}

describe('a checked local write is not judged again', () => {
  it('accepts the entry of a checked payload on its heads, and keeps facts a fresh judgement agrees with', async () => {
    const h = new History()
    const grantAlice = await h.acl(admin, { action: 'grant', role: 'writer', did: alice.did })
    const grantBob = await h.acl(admin, { action: 'grant', role: 'writer', did: bob.did }, [grantAlice.hash])
    const local = counting(h)
    await verdict(local.judge, grantBob)
    const before = local.judged()

    const payload = { op: 'PUT', key: 'k', value: 'alice’s' }
    expect(await local.judge.check(alice.did, payload, [grantBob.hash])).toBeUndefined()
    const mine = await h.write(alice, payload, [grantBob.hash])
    expect(local.judge.acceptChecked(mine, alice.did)).toBe(true)
    expect(local.judged()).toBe(before)
    // Judged "again" it is known: accepted, with no rules run.
    expect(await verdict(local.judge, mine)).toBe('accepted')
    expect(local.judged()).toBe(before)

    // Ownership came from the adopted facts: bob may not overwrite alice's record, alice may.
    const bobsOverwrite = await h.put(bob, 'k', 'bob’s', [mine.hash])
    const alicesUpdate = await h.put(alice, 'k', 'alice’s again', [mine.hash])
    const fresh = h.judge(rules)
    for (const judge of [local.judge, fresh]) {
      expect(await verdict(judge, bobsOverwrite)).toBe('not-the-owner')
      expect(await verdict(judge, alicesUpdate)).toBe('accepted')
    }
    expect(await local.judge.check(bob.did, { op: 'DEL', key: 'k', value: null }, [alicesUpdate.hash])).toMatchObject({ reason: 'not-the-owner' })
  })

  it('judges in full what it did not check: other heads, another payload, another writer or signer, a clock of its own, an access operation', async () => {
    const h = new History()
    const grant = await h.acl(admin, { action: 'grant', role: 'writer', did: alice.did })
    const other = await h.acl(admin, { action: 'grant', role: 'writer', did: bob.did }, [grant.hash])
    const { judge } = counting(h)
    await verdict(judge, other)

    const checked = async (payload: object, heads = [other.hash]): Promise<object> => {
      expect(await judge.check(alice.did, payload, heads)).toBeUndefined()
      return payload
    }
    const onOtherHeads = await h.write(alice, await checked({ op: 'PUT', key: 'a', value: 1 }, [grant.hash]), [other.hash])
    const unchecked = await h.write(alice, { op: 'PUT', key: 'b', value: 1 }, [other.hash])
    const byBob = await h.write(bob, await checked({ op: 'PUT', key: 'c', value: 1 }), [other.hash])
    const ownClock = await h.write(alice, await checked({ op: 'PUT', key: 'd', value: 1 }), [other.hash], { time: 99 })
    const grantPayload = aclPayload({ action: 'grant', role: 'admin', did: bob.did, at: 1_800_000_000_000 })
    expect(await judge.check(admin.did, grantPayload, [other.hash])).toBeUndefined()
    const access = await h.write(admin, grantPayload, [other.hash])

    for (const entry of [onOtherHeads, unchecked, byBob, ownClock]) expect(judge.acceptChecked(entry, entry.identity)).toBe(false)
    expect(judge.acceptChecked(access, admin.did)).toBe(false)
    // Signed by another key than the one checked.
    const payload = await checked({ op: 'PUT', key: 'e', value: 1 })
    const delegatedLooking = await h.write(alice, payload, [other.hash])
    expect(judge.acceptChecked(delegatedLooking, bob.did)).toBe(false)
    // Each still gets the verdict a judgement gives it.
    expect(await verdict(judge, onOtherHeads)).toBe('accepted')
    expect(await verdict(judge, byBob)).toBe('accepted')
    expect(await verdict(judge, ownClock)).toBe('invalid-clock')
    expect(await verdict(judge, access)).toBe('accepted')
  })
})
