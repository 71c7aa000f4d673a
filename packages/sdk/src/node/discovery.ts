/**
 * How browsers find each other: each announces its addresses on one pubsub topic
 * (@libp2p/pubsub-peer-discovery). Node peers subscribe without announcing, so that the
 * announcements of the browsers connected to them (often only to them) are relayed.
 */
import type { PeerDiscovery } from '@libp2p/interface'
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery'

export const BROWSER_DISCOVERY_TOPIC = 'didbase._peer-discovery._p2p._pubsub'

/** `announceEvery`: how often this node announces itself, in ms; undefined to only relay. */
export function browserDiscovery (announceEvery?: number): (components: any) => PeerDiscovery {
  return pubsubPeerDiscovery(announceEvery === undefined
    ? { topics: [BROWSER_DISCOVERY_TOPIC], listenOnly: true }
    : { topics: [BROWSER_DISCOVERY_TOPIC], interval: announceEvery })
}
