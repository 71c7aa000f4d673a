/**
 * Refusals counted against the peer that sent them, as gossipsub's application-specific
 * score, on their own (no node). test/hostile-entries.spec.ts has gossipsub ignoring a
 * flooding peer over loopback.
 */
import { TopicValidatorResult, type Message, type TopicValidatorFn } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { BAN_AT, FREE_REFUSALS, GRAYLIST_AT, GRAYLIST_THRESHOLD, HALF_LIFE_MS, ignoreCounted, MAX_PEERS, PeerPenalties, UNSERVED_WEIGHT } from '../src/sync/peer-penalties.js'

const MALLORY = '12D3KooWLMHFSVDyUWoZbb4qiR7dGKu1Vq7N5GvbGhUJVn6XyprR'
const ALICE = '12D3KooWRm8J3iL796zPFi2EtGGtUJn58AG67gcqzMFHZnnsTzqD'
/** A peer id as gossipsub hands it over. */
const peerId = (id: string): PeerId => ({ toString: () => id, equals: (other: unknown) => String(other) === id }) as unknown as PeerId
/** A message published (signed) by `publisher`. */
const message = (publisher = MALLORY): Message => ({ type: 'signed', from: peerId(publisher), topic: 't', data: new Uint8Array(1) }) as unknown as Message

describe('PeerPenalties', () => {
  it(`costs nothing for the first ${FREE_REFUSALS} refusals, reaches the graylist threshold at ${GRAYLIST_AT}, and recovers by itself`, () => {
    const penalties = new PeerPenalties()
    const now = 1_000_000
    for (let i = 0; i < FREE_REFUSALS; i++) penalties.add(MALLORY, 1, now)
    expect(penalties.score(MALLORY, now)).toBe(0)
    for (let i = FREE_REFUSALS; i < GRAYLIST_AT; i++) penalties.add(MALLORY, 1, now)
    expect(penalties.score(MALLORY, now)).toBeCloseTo(GRAYLIST_THRESHOLD)
    expect(penalties.score(ALICE, now)).toBe(0)
    // Two half-lives later it holds a quarter of its refusals: within the free ones.
    expect(penalties.score(MALLORY, now + 2 * HALF_LIFE_MS)).toBe(0)
  })

  it('counts rejections and unserved pasts, not other ignores or acceptances', async () => {
    const penalties = new PeerPenalties()
    const verdicts: Array<() => TopicValidatorResult> = [
      () => TopicValidatorResult.Reject,
      () => TopicValidatorResult.Accept,
      () => TopicValidatorResult.Ignore
    ]
    let next = 0
    const validate = penalties.counting((async (_peer: unknown, m: Message) => next === 3 ? ignoreCounted(m, UNSERVED_WEIGHT) : (verdicts[next] as () => TopicValidatorResult)()) as TopicValidatorFn)
    for (next = 0; next < 4; next++) await validate(peerId(MALLORY), message())
    expect(penalties.points(MALLORY)).toBeCloseTo(1 + UNSERVED_WEIGHT, 2)
  })

  it('counts an ignore only against the peer that published the message, a refusal against any sender: an honest relay pays nothing for a past it holds and this replica lacks', async () => {
    const penalties = new PeerPenalties()
    const relay = 'relay'
    let verdict: 'ignore' | 'reject' = 'ignore'
    const validate = penalties.counting((async (_peer: unknown, m: Message) => verdict === 'ignore' ? ignoreCounted(m, UNSERVED_WEIGHT) : TopicValidatorResult.Reject) as TopicValidatorFn)
    for (let i = 0; i < 200; i++) await validate(peerId(relay), message(MALLORY))
    expect(penalties.points(relay)).toBe(0)
    verdict = 'reject'
    await validate(peerId(relay), message(MALLORY))
    expect(penalties.points(relay)).toBeCloseTo(1, 2)
  })

  it(`remembers at most ${MAX_PEERS} peers, forgetting the least recently penalized`, () => {
    const penalties = new PeerPenalties()
    penalties.add('first', 40, 0)
    for (let i = 0; i < MAX_PEERS; i++) penalties.add(`peer-${i}`, 1, 0)
    expect(penalties.points('first', 0)).toBe(0)
    expect(penalties.points(`peer-${MAX_PEERS - 1}`, 0)).toBe(1)
  })

  it(`disconnects a peer at ${BAN_AT} refusals and refuses its connections until it is back under ${GRAYLIST_AT}; the caller's gater still counts`, async () => {
    const penalties = new PeerPenalties()
    const hungUp: string[] = []
    penalties.onBan = (peer) => { hungUp.push(peer.toString()) }
    const mallory = { toString: () => MALLORY } as never
    const alice = { toString: () => ALICE } as never
    const gater = penalties.gater({ denyDialPeer: async (peer) => peer.toString() === ALICE })
    const now = Date.now()
    penalties.add(mallory, BAN_AT - 1, now)
    expect(hungUp).toEqual([])
    expect(await gater.denyInboundEncryptedConnection?.(mallory, undefined as never)).toBe(false)
    penalties.add(mallory, 1, now)
    penalties.add(mallory, 1, now)
    expect(hungUp).toEqual([MALLORY])
    expect(await gater.denyInboundEncryptedConnection?.(mallory, undefined as never)).toBe(true)
    expect(await gater.denyDialPeer?.(mallory)).toBe(true)
    // The caller's own rule, for a peer never penalized.
    expect(await gater.denyDialPeer?.(alice)).toBe(true)
    expect(await gater.denyInboundEncryptedConnection?.(alice, undefined as never)).toBe(false)
    // Two half-lives later: a quarter of BAN_AT is under GRAYLIST_AT.
    expect(penalties.banned(MALLORY, now + 2 * HALF_LIFE_MS)).toBe(false)
  })

  it('keeps a class-based gater\'s own rules, bound to it', async () => {
    class Gater {
      readonly denied = new Set([ALICE])
      denyDialPeer (peer: { toString: () => string }): boolean { return this.denied.has(peer.toString()) }
      denyDialMultiaddr (): boolean { return this.denied.size > 5 }
    }
    const gater = new PeerPenalties().gater(new Gater() as never)
    expect(await gater.denyDialPeer?.({ toString: () => ALICE } as never)).toBe(true)
    expect(await gater.denyDialPeer?.({ toString: () => MALLORY } as never)).toBe(false)
    expect(await gater.denyDialMultiaddr?.(undefined as never)).toBe(false)
    expect(gater.denyInboundConnection).toBeUndefined()
  })
})
