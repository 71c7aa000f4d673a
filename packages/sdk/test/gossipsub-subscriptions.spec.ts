/**
 * What a node's real gossipsub keeps of a peer: at most MAX_TOPICS_PER_PEER topics (past it,
 * the peer's subscriptions are ignored, as are overlong topics; another peer is untouched),
 * and received messages with bytes of their own, not views into their 4 MiB frame.
 */
import type { PeerId } from '@libp2p/interface'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDidbase, type Didbase } from '../src/index.js'
import { hasReceiveHook } from '../src/upstream/gossipsub-frames.js'
import { hasSubscriptionHooks, MAX_TOPICS_PER_PEER } from '../src/upstream/gossipsub-subscriptions.js'

interface Gossip {
  topics: Map<string, Set<string>>
  handleReceivedSubscription: (from: PeerId, topic: string, subscribe: boolean) => void
  handleReceivedMessage: (from: PeerId, rpcMsg: Record<string, Uint8Array | string | undefined>) => Promise<void>
}

let didbase: Didbase
/** Nodes whose peer ids play the flooding and the honest peer (nothing is sent over the network). */
let others: Didbase[]
let directory: string
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'didbase-subscriptions-'))
  didbase = await createDidbase({ directory, listen: ['/ip4/127.0.0.1/tcp/0'] })
  others = await Promise.all([1, 2].map(async () => createDidbase({ memory: true, listen: [] })))
})
afterAll(async () => {
  await Promise.all([didbase, ...others].map(async (d) => d.close()))
  await rm(directory, { recursive: true, force: true })
})

const topicsOf = (gossip: Gossip, peer: PeerId): number => [...gossip.topics.values()].filter((peers) => peers.has(peer.toString())).length

describe('the topics one peer may announce', () => {
  it(`are at most ${MAX_TOPICS_PER_PEER}; more are ignored, an unsubscribe makes room, and another peer is untouched`, async () => {
    const gossip = didbase.helia.libp2p.services.pubsub as unknown as Gossip
    expect(hasSubscriptionHooks(gossip)).toBe(true)
    const [flooder, honest] = others.map((d) => d.helia.libp2p.peerId) as [PeerId, PeerId]
    for (let i = 0; i < MAX_TOPICS_PER_PEER + 100; i++) gossip.handleReceivedSubscription(flooder, `flood-${i}`, true)
    expect(topicsOf(gossip, flooder)).toBe(MAX_TOPICS_PER_PEER)
    gossip.handleReceivedSubscription(flooder, 'flood-0', false)
    gossip.handleReceivedSubscription(flooder, 'flood-again', true)
    expect(topicsOf(gossip, flooder)).toBe(MAX_TOPICS_PER_PEER)
    expect(gossip.topics.get('flood-again')?.has(flooder.toString())).toBe(true)
    gossip.handleReceivedSubscription(honest, 'x'.repeat(513), true)
    expect(gossip.topics.has('x'.repeat(513))).toBe(false)
    gossip.handleReceivedSubscription(honest, 'flood-1', true)
    gossip.handleReceivedSubscription(honest, 'notes', true)
    expect(topicsOf(gossip, honest)).toBe(2)
  })
})

describe('a received message', () => {
  it('keeps no view into its frame: every byte field is copied before it is validated', async () => {
    const gossip = didbase.helia.libp2p.services.pubsub as unknown as Gossip
    expect(hasReceiveHook(gossip)).toBe(true)
    const frame = new Uint8Array(4 * 1024 * 1024)
    const view = (at: number, length: number): Uint8Array => frame.subarray(at, at + length)
    const rpcMsg: Record<string, Uint8Array | string | undefined> = { topic: 'notes', data: view(0, 100), from: view(200, 38), seqno: view(300, 8), signature: view(400, 64), key: view(500, 36) }
    // Not a valid message: gossipsub refuses it, after the copies.
    await gossip.handleReceivedMessage(others[0]?.helia.libp2p.peerId as PeerId, rpcMsg)
    for (const field of ['data', 'from', 'seqno', 'signature', 'key']) {
      const bytes = rpcMsg[field] as Uint8Array
      expect(bytes.buffer.byteLength, field).toBe(bytes.byteLength)
    }
  })
})
