/**
 * The gossipsub topic validator on its own: real signed OrbitDB entries, the policy check
 * replaced by a function the test controls (no node, no network).
 */
import { createDidKeyIdentity, EntryRejectedError, orbitIdentityLayer } from '@didbase/access'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Message } from '@libp2p/gossipsub'
import { Entry, type LogEntry } from '@orbitdb/core'
import { describe, expect, it } from 'vitest'
import { OVER_SHARE_WEIGHT, PeerPenalties, UNSERVED_WEIGHT } from '../src/sync/peer-penalties.js'
import { entryValidator, MAX_JUDGING, MAX_LINE_BYTES, MAX_MEMBERS_HELD, MAX_TURN_MS, MAX_WAITING, SOURCES_TO_FILL, type ValidatorContext } from '../src/sync/topic-validator.js'

const ADDRESS = '/orbitdb/zdpuAvalidatorTest'

async function entryBytes (writer = createDidKeyIdentity(), address = ADDRESS, n = 0, value: unknown = n): Promise<{ hash: string, bytes: Uint8Array, did: string }> {
  const { identity } = orbitIdentityLayer(writer)
  const entry = await Entry.create(identity, address, { op: 'PUT', key: `k${n}`, value })
  const { hash, bytes } = await Entry.encode(entry)
  return { hash, bytes, did: writer.did }
}

/** The peer a message came from: `from(n)`, one of several. */
const from = (n = 0): never => ({ toString: () => `peer-${n}` }) as never
/** A message published by the peer that sends it (relays' messages: peer-penalties.spec.ts). */
const message = (data: Uint8Array): Message => ({ type: 'signed', from: { equals: () => true }, topic: ADDRESS, data }) as unknown as Message

interface Seen { accepted: string[], rejected: Array<{ hash: string | undefined, reason: string | undefined }>, checked: string[] }

function context (overrides: Partial<ValidatorContext> = {}): { ctx: ValidatorContext, seen: Seen } {
  const seen: Seen = { accepted: [], rejected: [], checked: [] }
  const ctx: ValidatorContext = {
    address: ADDRESS,
    check: async (entry: LogEntry) => { seen.checked.push(entry.hash) },
    knows: () => false,
    has: async () => false,
    accepted: (entry) => { seen.accepted.push(entry.hash) },
    rejected: (entry, err) => { seen.rejected.push({ hash: entry?.hash, reason: (err as EntryRejectedError).reason }) },
    // Tests that hold a judgment on purpose hold it longer than a turn lasts in use.
    maxTurnMs: 60_000,
    ...overrides
  }
  return { ctx, seen }
}

describe('entryValidator', () => {
  it('accepts an entry the policy passes, and hands on its bytes', async () => {
    const { ctx, seen } = context()
    const e = await entryBytes()
    expect(await entryValidator(ctx)(from(), message(e.bytes))).toBe(TopicValidatorResult.Accept)
    expect(seen).toEqual({ accepted: [e.hash], rejected: [], checked: [e.hash] })
  })

  it('rejects bytes that are not an entry, and an entry of another database, without asking the policy', async () => {
    const { ctx, seen } = context()
    const validate = entryValidator(ctx)
    expect(await validate(from(), message(new Uint8Array([1, 2, 3])))).toBe(TopicValidatorResult.Reject)
    const other = await entryBytes(undefined, '/orbitdb/zdpuAanotherDatabase')
    expect(await validate(from(), message(other.bytes))).toBe(TopicValidatorResult.Reject)
    expect(seen.rejected).toEqual([{ hash: undefined, reason: 'malformed-entry' }, { hash: other.hash, reason: 'wrong-database' }])
    expect(seen.checked).toEqual([])
  })

  it('rejects a refused entry, but only ignores one whose past was unavailable', async () => {
    const refused = await entryBytes()
    const unavailable = await entryBytes()
    const { ctx, seen } = context({
      check: async (entry) => {
        throw new EntryRejectedError(entry.hash, entry.identity, entry.hash === refused.hash ? 'not-a-writer' : 'unavailable', 'no')
      }
    })
    const penalties = new PeerPenalties()
    const validate = penalties.counting(entryValidator(ctx))
    expect(await validate(from(), message(refused.bytes))).toBe(TopicValidatorResult.Reject)
    expect(await validate(from(), message(unavailable.bytes))).toBe(TopicValidatorResult.Ignore)
    // A refusal counts against the sender; a stranger's past it did not serve, half as much.
    expect(penalties.points('peer-0')).toBeCloseTo(1 + UNSERVED_WEIGHT, 2)
    expect(seen.accepted).toEqual([])
    expect(seen.rejected.map((r) => r.reason)).toEqual(['not-a-writer', 'unavailable'])
  })

  it(`gives a stranger's entry whose past does not arrive at most its turn (${MAX_TURN_MS / 1000} s in use): dropped as unavailable, its sender charged only by the verdict it gets in the end`, async () => {
    const slow = await entryBytes()
    const refused = await entryBytes()
    const next = await entryBytes()
    let arrive: () => void = () => {}
    const past = new Promise<void>((resolve) => { arrive = resolve })
    const penalties = new PeerPenalties()
    const { ctx, seen } = context({
      maxTurnMs: 50,
      penalize: (peer, points) => { penalties.add(peer, points) },
      check: async (entry) => {
        seen.checked.push(entry.hash)
        if (entry.hash === next.hash) return
        await past
        if (entry.hash === refused.hash) throw new EntryRejectedError(entry.hash, entry.identity, 'not-a-member', 'no')
      }
    })
    const validate = penalties.counting(entryValidator(ctx))
    expect(await validate(from(0), message(slow.bytes))).toBe(TopicValidatorResult.Ignore)
    expect(await validate(from(1), message(refused.bytes))).toBe(TopicValidatorResult.Ignore)
    expect(seen.rejected).toEqual([{ hash: slow.hash, reason: 'unavailable' }, { hash: refused.hash, reason: 'unavailable' }])
    // Nobody is charged for a turn that ran out: an honest relay's entry may only be slow.
    expect([penalties.points('peer-0'), penalties.points('peer-1')]).toEqual([0, 0])
    // Their turns are over: the next entry is judged at once.
    expect(await validate(from(2), message(next.bytes))).toBe(TopicValidatorResult.Accept)
    arrive()
    await past
    await new Promise((resolve) => setImmediate(resolve))
    // The late pass is handed on to nobody, the late refusal is not reported twice, and its sender pays for it.
    expect(seen.accepted).toEqual([next.hash])
    expect(seen.rejected).toHaveLength(2)
    expect(penalties.points('peer-0')).toBe(0)
    expect(penalties.points('peer-1')).toBeCloseTo(1, 2)
  })

  it('ignores an entry it already has, without judging it again (nothing to apply or forward)', async () => {
    const { ctx, seen } = context({ has: async () => true })
    const e = await entryBytes()
    expect(await entryValidator(ctx)(from(), message(e.bytes))).toBe(TopicValidatorResult.Ignore)
    expect(seen.checked).toEqual([])
  })

  it(`judges ${MAX_JUDGING} strangers at once, lets ${MAX_WAITING} wait, drops the rest; a known writer never waits`, async () => {
    const known = createDidKeyIdentity()
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const { ctx, seen } = context({
      knows: (did) => did === known.did,
      check: async (entry) => {
        seen.checked.push(entry.hash)
        if (entry.identity !== known.did) await held
      }
    })
    const validate = entryValidator(ctx)
    const stranger = createDidKeyIdentity()
    const flood = await Promise.all(Array.from({ length: MAX_JUDGING + MAX_WAITING + 5 }, async (_, n) => entryBytes(stranger, ADDRESS, n)))
    const verdicts = flood.map(async (e, n) => validate(from(n % SOURCES_TO_FILL), message(e.bytes)))
    // The last five found the line full and were dropped at once.
    const dropped = await Promise.all(verdicts.slice(-5))
    expect(dropped).toEqual(Array(5).fill(TopicValidatorResult.Ignore))
    expect(seen.checked.length).toBe(MAX_JUDGING)
    const mine = await entryBytes(known)
    expect(await validate(from(), message(mine.bytes))).toBe(TopicValidatorResult.Accept)
    release()
    const rest = await Promise.all(verdicts.slice(0, -5))
    expect(rest.every((v) => v === TopicValidatorResult.Accept)).toBe(true)
    expect(seen.accepted.length).toBe(MAX_JUDGING + MAX_WAITING + 1)
  })

  it(`holds at most ${MAX_MEMBERS_HELD} of known writers' entries, each judged as it comes; one member's peer holds at most 1/${SOURCES_TO_FILL} of them, and another member is judged meanwhile`, async () => {
    const flooder = createDidKeyIdentity()
    const other = createDidKeyIdentity()
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const { ctx, seen } = context({
      knows: () => true,
      check: async (entry) => {
        seen.checked.push(entry.hash)
        if (entry.identity === flooder.did) await held
      }
    })
    const validate = entryValidator(ctx)
    const share = MAX_MEMBERS_HELD / SOURCES_TO_FILL
    const flood = await Promise.all(Array.from({ length: share + 3 }, async (_, n) => entryBytes(flooder, ADDRESS, n)))
    const verdicts = flood.map(async (e) => validate(from(0), message(e.bytes)))
    // Past its share, the member's entries are dropped at once, charged nothing (an honest burst must not graylist it).
    const penalties = new PeerPenalties()
    const counted = penalties.counting(validate)
    const over = await entryBytes(flooder, ADDRESS, 10_000)
    expect(await counted(from(0), message(over.bytes))).toBe(TopicValidatorResult.Ignore)
    expect(penalties.points('peer-0')).toBe(0)
    expect(await Promise.all(verdicts.slice(-3))).toEqual(Array(3).fill(TopicValidatorResult.Ignore))
    expect(seen.checked.length).toBe(share)
    // Another member, from another peer, is judged meanwhile.
    const theirs = await entryBytes(other)
    expect(await validate(from(1), message(theirs.bytes))).toBe(TopicValidatorResult.Accept)
    release()
    const rest = await Promise.all(verdicts.slice(0, -3))
    expect(rest.every((v) => v === TopicValidatorResult.Accept)).toBe(true)
  })

  it('a known writer whose past does not come is ignored, charged nothing (a slow link must not graylist a member)', async () => {
    const member = createDidKeyIdentity()
    const { ctx } = context({
      knows: () => true,
      check: async (entry) => { throw new EntryRejectedError(entry.hash, member.did, 'unavailable', 'its past could not be fetched') }
    })
    const penalties = new PeerPenalties()
    const validate = penalties.counting(entryValidator(ctx))
    const e = await entryBytes(member)
    expect(await validate(from(0), message(e.bytes))).toBe(TopicValidatorResult.Ignore)
    expect(penalties.points('peer-0')).toBe(0)
  })

  it(`holds at most ${MAX_LINE_BYTES / 2 ** 20} MiB of strangers' messages: large entries are dropped by size, not only by count`, async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const { ctx, seen } = context({ check: async (entry) => { seen.checked.push(entry.hash); await held } })
    const validate = entryValidator(ctx)
    const stranger = createDidKeyIdentity()
    const big = new Uint8Array(1024 * 1024).fill(7)
    const fits = Math.floor(MAX_LINE_BYTES / (big.byteLength + 1024))
    const flood = await Promise.all(Array.from({ length: fits + 3 }, async (_, n) => entryBytes(stranger, ADDRESS, n, big)))
    // From twice as many senders as may fill the line: the bound met is the line's, not a sender's.
    const verdicts = flood.map(async (e, n) => validate(from(n % (2 * SOURCES_TO_FILL)), message(e.bytes)))
    expect(await Promise.all(verdicts.slice(-3))).toEqual(Array(3).fill(TopicValidatorResult.Ignore))
    release()
    expect((await Promise.all(verdicts.slice(0, -3))).every((v) => v === TopicValidatorResult.Accept)).toBe(true)
    // Once judged, the line has room again.
    const after = await entryBytes(stranger, ADDRESS, fits + 4, big)
    expect(await validate(from(), message(after.bytes))).toBe(TopicValidatorResult.Accept)
  })

  it(`lets one sender hold at most 1/${SOURCES_TO_FILL} of the strangers' line: others still get in`, async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const { ctx, seen } = context({ check: async (entry) => { seen.checked.push(entry.hash); await held } })
    // Counted as gossipsub's validator is, per sender: drops past a sender's share count against it.
    const penalties = new PeerPenalties()
    const validate = penalties.counting(entryValidator(ctx))
    const stranger = createDidKeyIdentity()
    const share = (MAX_JUDGING + MAX_WAITING) / SOURCES_TO_FILL
    const flood = await Promise.all(Array.from({ length: share + 2 }, async (_, n) => entryBytes(stranger, ADDRESS, n)))
    const verdicts = flood.map(async (e) => validate(from(1), message(e.bytes)))
    expect(await Promise.all(verdicts.slice(-2))).toEqual([TopicValidatorResult.Ignore, TopicValidatorResult.Ignore])
    const other = await entryBytes(stranger, ADDRESS, share + 3)
    const fromOther = validate(from(2), message(other.bytes))
    expect(penalties.points('peer-1')).toBeCloseTo(2 * OVER_SHARE_WEIGHT, 2)
    expect(penalties.points('peer-2')).toBe(0)
    release()
    expect(await fromOther).toBe(TopicValidatorResult.Accept)
    expect((await Promise.all(verdicts.slice(0, -2))).every((v) => v === TopicValidatorResult.Accept)).toBe(true)
  })
})
