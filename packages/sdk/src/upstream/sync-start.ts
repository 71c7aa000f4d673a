/**
 * Start OrbitDB's sync for a database, including with peers connected before it opened.
 *
 * OrbitDB exchanges heads when a pubsub `subscription-change` says a peer joined the
 * database's topic. A peer that was already connected and subscribed announced itself
 * before this database listened, and OrbitDB registers its heads handler only after it
 * subscribes, so that peer's own attempt can also miss. Neither side would exchange heads
 * until a reconnect. After starting, replay the announcement of each such peer.
 *
 * Works around `@orbitdb/core` 4.0.0 `src/sync.js` 183-224 (exchanges only on
 * `subscription-change`) and 290-296 (`subscribe` before `handle`). Delete when OrbitDB
 * exchanges heads with peers already subscribed when a database opens.
 */
import type { Database } from '@orbitdb/core'
import type { Helia } from 'helia'

interface Subscribers {
  getSubscribers: (topic: string) => Array<{ toString: () => string }>
  safeDispatchEvent: (type: 'subscription-change', init: { detail: unknown }) => boolean
}

export async function startSync (db: Database, helia: Helia): Promise<void> {
  await db.sync.start()
  exchangeWithNewPeers(db, helia)
}

/**
 * Have OrbitDB exchange heads with every subscriber of the database's topic it has not
 * exchanged with. Also used after a failed exchange: OrbitDB forgets the peer and would
 * not try again before a reconnect (two peers that dial each other at once can break
 * both exchanges, and then neither hears of the other's writes).
 */
export function exchangeWithNewPeers (db: Database, helia: Helia, again = false): void {
  const pubsub = helia.libp2p.services.pubsub as Subscribers
  for (const peerId of pubsub.getSubscribers(db.address)) {
    // With `again`, exchange with peers already met too: anti-entropy (see database.ts).
    if (again) db.peers.delete(peerId.toString())
    else if (db.peers.has(peerId.toString())) continue
    pubsub.safeDispatchEvent('subscription-change', { detail: { peerId, subscriptions: [{ topic: db.address, subscribe: true }] } })
  }
}
