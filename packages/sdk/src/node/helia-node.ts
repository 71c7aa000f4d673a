/** The embedded Helia + libp2p node under a didbase instance. */
import { noise } from '@chainsafe/libp2p-noise'
import { readSecret, writeSecret } from '@didbase/access/internal'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bitswap } from '@helia/block-brokers'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { bootstrap } from '@libp2p/bootstrap'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { gossipsub, type TopicValidatorFn } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { MemoryBlockstore } from 'blockstore-core'
import { LevelBlockstore } from 'blockstore-level'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { Helia as HeliaNode } from '@helia/utils'
import type { Helia } from 'helia'
import type { Blockstore } from 'interface-blockstore'
import { createLibp2p } from 'libp2p'
import { joinPath, meetPeers, peerDiscovery, prepareDirectory, transports } from './platform.js'
import { frameHeadsExchanges } from '../upstream/heads-stream.js'
import { fastMessageId, messageIdKey } from '../upstream/message-id.js'
import { forgetCachedScore } from '../upstream/gossipsub-score.js'
import { ownMessageBytes } from '../upstream/gossipsub-frames.js'
import { boundSubscriptions } from '../upstream/gossipsub-subscriptions.js'
import { PeerPenalties, type TopicValidators } from '../sync/peer-penalties.js'
import { VerifiedBlockstore } from '../storage/verified-blockstore.js'
import { withImportedSigner } from './peer-key.js'
import type { IndexLevel } from '../queries/indexes.js'
const PEER_KEY_FILE = 'peer.key'

export interface NodeInit {
  directory: string
  memory: boolean
  listen: string[]
  bootstrap: string[]
  /** Serve circuit relay v2 reservations, so peers that cannot be dialed (browsers) can be reached. */
  relay: boolean
  connectionGater?: ConnectionGater
  /** WebRTC's STUN/TURN servers, where the platform has WebRTC (browsers). */
  iceServers?: IceServer[]
  /** A block store of the caller's, which opens and closes it; else one is made here. */
  blockstore?: Blockstore
}

/** A STUN or TURN server, as in WebRTC's RTCIceServer. */
export interface IceServer {
  urls: string | string[]
  username?: string
  credential?: string
}

/** Messages one gossipsub frame may carry (its default: no limit); a frame with more is dropped. */
const MAX_MESSAGES_PER_FRAME = 128
/** Gossipsub's default frame limits (none), which MAX_MESSAGES_PER_FRAME tightens. */
const UNLIMITED_RPC = { maxSubscriptions: Infinity, maxMessages: Infinity, maxIhaveMessageIDs: Infinity, maxIwantMessageIDs: Infinity, maxIdontwantMessageIDs: Infinity, maxControlMessages: Infinity, maxPeerInfos: Infinity }

/** Relay reservations one node holds at once (libp2p's default is 15). */
const MAX_RELAY_RESERVATIONS = 128

/** The libp2p key is kept beside the data so a restarted node keeps its PeerId. */
async function loadOrCreatePeerKey (directory: string): Promise<PrivateKey> {
  const kept = await readSecret(directory, PEER_KEY_FILE)
  if (kept !== undefined) return privateKeyFromProtobuf(kept)
  const key = await generateKeyPair('Ed25519')
  await writeSecret(directory, PEER_KEY_FILE, privateKeyToProtobuf(key))
  return key
}

export interface Node {
  helia: Helia
  /** Where databases register their gossipsub topic validators: each refusal counts against the peer that sent it. */
  validators: TopicValidators
  /** Where databases keep their query indexes (LevelDB in Node, IndexedDB in browsers; memory for a memory node). */
  queryStore: IndexLevel
  /** Stop Helia and libp2p, then close the stores (Helia does not close stores it was given). */
  stop: () => Promise<void>
}

export async function createNode (init: NodeInit): Promise<Node> {
  await prepareDirectory(init.directory)
  const privateKey = init.memory ? await generateKeyPair('Ed25519') : await loadOrCreatePeerKey(init.directory)
  const datastore = init.memory ? new MemoryDatastore() : new LevelDatastore(joinPath(init.directory, 'datastore'))
  const ownBlockstore = init.blockstore === undefined && !init.memory ? new LevelBlockstore(joinPath(init.directory, 'blocks')) : undefined
  const blockstore = new VerifiedBlockstore(init.blockstore ?? ownBlockstore ?? new MemoryBlockstore())
  const levelOptions = { keyEncoding: 'view', valueEncoding: 'view' } as const
  const queryStore: IndexLevel = init.memory ? new MemoryLevel<Uint8Array, Uint8Array>(levelOptions) : new Level<Uint8Array, Uint8Array>(joinPath(init.directory, 'query-indexes'), levelOptions)
  const closeStores = async (): Promise<void> => {
    await queryStore.close()
    if (init.memory) return
    await Promise.allSettled([(datastore as LevelDatastore).close(), ownBlockstore?.close()])
  }
  if (!init.memory) await (datastore as LevelDatastore).open()
  await ownBlockstore?.open()
  await queryStore.open()
  try {
    const penalties = new PeerPenalties()
    const helia = await startHelia(init, privateKey, datastore, blockstore, penalties)
    const pubsub = helia.libp2p.services.pubsub as unknown as { topicValidators: Map<string, TopicValidatorFn> }
    return {
      helia,
      validators: penalties.validators(pubsub.topicValidators),
      queryStore,
      stop: async () => {
        await helia.stop()
        await closeStores()
      }
    }
  } catch (err) {
    await closeStores()
    throw err
  }
}

async function startHelia (init: NodeInit, privateKey: PrivateKey, datastore: LevelDatastore | MemoryDatastore, blockstore: Blockstore, penalties: PeerPenalties): Promise<Helia> {
  const libp2p = await createLibp2p({
    // The peer store stays in memory: peers are re-learnt on start, and libp2p 3 pins
    // another interface-datastore major than the Level store Helia uses.
    privateKey: withImportedSigner(privateKey),
    addresses: { listen: init.listen },
    transports: transports(init),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [...(init.bootstrap.length > 0 ? [bootstrap({ list: init.bootstrap })] : []), ...peerDiscovery()],
    // A peer that keeps sending refused entries is disconnected and refused for a while (sync/peer-penalties.ts).
    connectionGater: penalties.gater(init.connectionGater),
    services: {
      identify: identify(),
      // OrbitDB publishes to a database's topic before any peer joins it (@orbitdb/core 4.0.0 src/sync.js 257-262).
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        fastMsgIdFn: fastMessageId,
        msgIdToStrFn: messageIdKey,
        // A peer that keeps sending refused entries is ignored until its refusals decay (sync/peer-penalties.ts).
        // No penalty for sharing an IP address (P6): local-first peers often do (one machine,
        // a NAT, browsers behind one relay), and it graylisted honest peers beside an attacker's.
        scoreParams: { appSpecificScore: (peerId) => penalties.score(peerId), appSpecificWeight: 1, IPColocationFactorWeight: 0 },
        // Gossipsub sends one message per frame when it publishes or forwards; a frame of
        // thousands would all be validated before the sender's score caught up.
        decodeRpcLimits: { ...UNLIMITED_RPC, maxMessages: MAX_MESSAGES_PER_FRAME }
      }),
      ...(init.relay ? { relay: circuitRelayServer({ reservations: { maxReservations: MAX_RELAY_RESERVATIONS } }) } : {})
    }
  })
  penalties.onBan = (peer) => { void libp2p.hangUp(peer).catch(() => {}) }
  penalties.onScore = (peerId) => { forgetCachedScore(libp2p.services.pubsub, peerId) }
  // What one peer's subscriptions and messages may keep of this node's memory.
  boundSubscriptions(libp2p.services.pubsub)
  ownMessageBytes(libp2p.services.pubsub)
  frameHeadsExchanges(libp2p)
  meetPeers(libp2p)
  // Helia's class, not `createHelia`: that module imports libp2p's whole default stack
  // (DHT, AutoTLS, WebRTC, UPnP…) to build defaults this node never uses, which took
  // most of a process's start (about 2 s of 2.5 here). Same node, same options.
  const helia = new HeliaNode({
    libp2p,
    datastore,
    blockstore,
    // Blocks come from connected peers only: no public gateways or routers.
    blockBrokers: [bitswap()],
    routers: [],
    metrics: libp2p.metrics
  })
  await helia.start()
  return helia
}
