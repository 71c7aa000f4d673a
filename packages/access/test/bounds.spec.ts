/**
 * The bounds every replica puts on what an entry's author chooses (docs/security.md, "Bounds
 * on what an author chooses"), judged in memory: clocks, payload sizes under rules version
 * 2 (and none on databases made before), and the keys one user may hold registered.
 */
import { describe, expect, it } from 'vitest'
import { delegateDevice } from '../src/identity/delegated.js'
import { checkedSignatures, encodeSignature, forgetCheckedSignatures, signerKeyOf, verifySignature } from '../src/identity/entry.js'
import { createDidKeyIdentity } from '../src/did/identity.js'
import type { JudgeRules } from '../src/judge/judge.js'
import { MAX_KEYS_PER_USER } from '../src/judge/rules.js'
import { History, verdict } from './history.js'

const founder = createDidKeyIdentity()
const writer = createDidKeyIdentity()
const acl = (version?: number): JudgeRules => ({ admins: [founder.did], writers: [writer.did], mutable: true, ownership: false, ...(version !== undefined ? { version } : {}) })

describe('bounds on what an author chooses', () => {
  it('a clock is exactly one past the latest entry it links to: a jump, a repeat and 2^53 are refused, and the founder writes on', async () => {
    const h = new History()
    const first = await h.put(founder, 'k', 'first')
    const jump = await h.write(writer, { op: 'PUT', key: 'k', value: 'jump' }, [first.hash], { time: 3 })
    const repeat = await h.write(writer, { op: 'PUT', key: 'k', value: 'repeat' }, [first.hash], { time: 1 })
    const huge = await h.write(writer, { op: 'PUT', key: 'k', value: 'huge' }, [first.hash], { time: Number.MAX_SAFE_INTEGER })
    const next = await h.put(founder, 'k', 'next', [first.hash])
    for (const rules of [acl(), acl(2), { admins: [], writers: [founder.did, writer.did], mutable: false, ownership: true }]) {
      const judge = h.judge(rules)
      for (const refused of [jump, repeat, huge]) expect(await verdict(judge, refused)).toBe('invalid-clock')
      expect(await verdict(judge, next)).toBe('accepted')
      expect(await judge.check(founder.did, { op: 'PUT', key: 'k', value: 'later' }, [next.hash])).toBeUndefined()
    }
  })

  it('a single write over 1 MiB is refused under rules version 2, and kept on databases made before', async () => {
    const h = new History()
    const large = await h.put(writer, 'big', 'x'.repeat(1_100_000))
    const small = await h.put(writer, 'small', 'x'.repeat(1000))
    expect(await verdict(h.judge(acl(2)), large)).toBe('entry-too-large')
    expect(await verdict(h.judge(acl(2)), small)).toBe('accepted')
    expect(await verdict(h.judge(acl()), large)).toBe('accepted')
    expect((await h.judge(acl(2)).check(writer.did, { op: 'PUT', key: 'big', value: 'x'.repeat(1_100_000) }, []))?.reason).toBe('entry-too-large')
  })

  it(`a user holds at most ${MAX_KEYS_PER_USER} registered keys, revoking one makes room, and a key is taken back once`, async () => {
    const h = new History()
    let parents: string[] = []
    const keys = []
    for (let i = 0; i <= MAX_KEYS_PER_USER; i++) {
      const key = createDidKeyIdentity()
      const token = await delegateDevice(writer, key.did, { expiresIn: 3_600_000 })
      const session = await h.acl(key, { action: 'session', proof: [token], at: Date.now() }, parents, { as: writer.did })
      keys.push({ key, session })
      if (i < MAX_KEYS_PER_USER) parents = [session.hash]
    }
    const judge = h.judge(acl(2))
    expect(await verdict(judge, keys[MAX_KEYS_PER_USER - 1]!.session)).toBe('accepted')
    expect(await verdict(judge, keys[MAX_KEYS_PER_USER]!.session)).toBe('invalid-operation')
    const revoke = await h.acl(writer, { action: 'revoke-device', did: keys[0]!.key.did, at: Date.now() }, parents)
    expect(await verdict(judge, revoke)).toBe('accepted')
    const again = await h.acl(writer, { action: 'revoke-device', did: keys[0]!.key.did, at: Date.now() }, [revoke.hash])
    expect(await verdict(judge, again)).toBe('invalid-operation')
    const key = createDidKeyIdentity()
    const room = await h.acl(key, { action: 'session', proof: [await delegateDevice(writer, key.did, { expiresIn: 3_600_000 })], at: Date.now() }, [revoke.hash], { as: writer.did })
    expect(await verdict(judge, room)).toBe('accepted')
    // Databases made before rules versions keep no bound on keys.
    expect(await verdict(h.judge(acl()), keys[MAX_KEYS_PER_USER]!.session)).toBe('accepted')
  }, 60_000)

  it('remembered signatures hold at most 16 MiB of signed bytes: a flood of large entries is checked, not kept', async () => {
    forgetCheckedSignatures()
    const key = signerKeyOf(writer.did)
    const signed = async (bytes: Uint8Array): Promise<string> => encodeSignature(await writer.sign(bytes))
    // A 4 MiB entry (an access payload's limit) is verified and not remembered.
    const large = new Uint8Array(4 * 1024 * 1024).fill(7)
    expect(await verifySignature(await signed(large), key, large)).toBe(true)
    expect(checkedSignatures()).toEqual({ count: 0, bytes: 0 })
    // 400 entries of 60 KiB (24 MiB in all): the oldest are forgotten past 16 MiB.
    for (let i = 0; i < 400; i++) {
      const bytes = new Uint8Array(60 * 1024).fill(i % 251)
      bytes[0] = i >> 8
      bytes[1] = i & 0xff
      expect(await verifySignature(await signed(bytes), key, bytes)).toBe(true)
    }
    const held = checkedSignatures()
    expect(held.bytes).toBeLessThanOrEqual(16 * 1024 * 1024)
    expect(held.count).toBe(Math.floor(16 * 1024 * 1024 / (60 * 1024)))
    // A wrong signature over remembered bytes is still refused.
    const other = new Uint8Array(10).fill(1)
    expect(await verifySignature(await signed(other), key, new Uint8Array(10).fill(2))).toBe(false)
  })
})
