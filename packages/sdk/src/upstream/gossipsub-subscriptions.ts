/**
 * A bound on the topics one peer may tell this node it subscribes to.
 *
 * Gossipsub keeps a set of peers for every topic any peer announces, for as long as that
 * peer stays connected, with no bound: one 4 MiB frame announced about 100,000 topics (some
 * 20 MiB of this node's memory), and a peer could send such frames on and on. Past
 * MAX_TOPICS_PER_PEER topics, a peer's further subscriptions are ignored, as are topics
 * longer than MAX_TOPIC_LENGTH (a database's topic is its address, about 60 characters).
 * Nothing is charged: the bound holds the memory, and an honest replicator holding more
 * databases than the bound must not be disconnected for it.
 *
 * Works around `@libp2p/gossipsub` 15.0.23 `dist/src/gossipsub.js` 779-798
 * (`handleReceivedSubscription` adds any topic) and 552-580 (`removePeer` forgets the
 * peer in every topic). Delete when gossipsub bounds the topics per peer.
 */
import type { PeerId } from '@libp2p/interface'

/** Topics one peer may be seen subscribed to: a replicator with thousands of databases stays well within it. */
export const MAX_TOPICS_PER_PEER = 16_384
/** Longest topic a peer may be seen subscribed to. */
export const MAX_TOPIC_LENGTH = 512

interface GossipsubTopics {
  topics: Map<string, Set<string>>
  handleReceivedSubscription: (from: PeerId, topic: string, subscribe: boolean) => void
  removePeer: (peerId: PeerId) => unknown
}

/** Whether this gossipsub has the methods `boundSubscriptions` wraps (a test checks it: a rename would silently undo the bound). */
export function hasSubscriptionHooks (pubsub: unknown): boolean {
  const g = pubsub as Partial<GossipsubTopics>
  return g.topics instanceof Map && typeof g.handleReceivedSubscription === 'function' && typeof g.removePeer === 'function'
}

/** Ignore a peer's subscriptions past `max` topics, and to topics longer than MAX_TOPIC_LENGTH. */
export function boundSubscriptions (pubsub: unknown, max = MAX_TOPICS_PER_PEER): void {
  const g = pubsub as GossipsubTopics
  if (!hasSubscriptionHooks(pubsub)) return
  const counts = new Map<string, number>()
  const subscribe = g.handleReceivedSubscription.bind(g)
  const removePeer = g.removePeer.bind(g)
  g.handleReceivedSubscription = (from, topic, wanted) => {
    const id = from.toString()
    const before = g.topics.get(topic)?.has(id) === true
    const held = counts.get(id) ?? 0
    if (wanted && !before && (held >= max || topic.length > MAX_TOPIC_LENGTH)) return
    subscribe(from, topic, wanted)
    const after = g.topics.get(topic)?.has(id) === true
    if (after === before) return
    const now = held + (after ? 1 : -1)
    if (now === 0) counts.delete(id)
    else counts.set(id, now)
  }
  g.removePeer = (peerId) => {
    counts.delete(peerId.toString())
    return removePeer(peerId)
  }
}
