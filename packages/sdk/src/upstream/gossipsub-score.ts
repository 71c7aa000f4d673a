/**
 * Let gossipsub see a peer's new application score at once.
 *
 * Gossipsub drops every frame of a peer under its graylist threshold before checking any
 * signature, the cheapest place a flood can be stopped. But it whitelists a peer with a
 * good score for its next 128 messages or 1 s, and caches every score for a heartbeat
 * (1 s): a peer that starts flooding is served for about a second after its refusals have
 * graylisted it. Under a flood that was some 2,000 messages per new peer id, each one's
 * signature verified (a quarter of the victim's CPU). Forgetting both for a peer whenever
 * its refusals change makes the next frame read the score anew.
 *
 * Works around `@libp2p/gossipsub` 15.0.23 `dist/src/gossipsub.js` 993-1015 (`acceptFrom`'s
 * whitelist) and `dist/src/score/peer-score.js` 150-165 (the score cache, valid for
 * `heartbeatInterval`). Delete when gossipsub re-reads an application score as it changes.
 */
interface GossipsubCaches {
  acceptFromWhitelist?: Map<string, unknown>
  score?: { scoreCache?: Map<string, unknown> }
}

/** Drop gossipsub's cached view of `peerId`'s score. */
export function forgetCachedScore (pubsub: unknown, peerId: string): void {
  const caches = pubsub as GossipsubCaches
  caches.acceptFromWhitelist?.delete(peerId)
  caches.score?.scoreCache?.delete(peerId)
}

/** Whether this gossipsub has the caches `forgetCachedScore` clears (a test checks it: a rename would silently undo the fix). */
export function hasScoreCaches (pubsub: unknown): boolean {
  const caches = pubsub as GossipsubCaches
  return caches.acceptFromWhitelist instanceof Map && caches.score?.scoreCache instanceof Map
}
