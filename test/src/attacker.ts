/**
 * Craft oplog entries outside didbase's write path and push them straight to a replica
 * over gossipsub, the way a hostile peer would.
 */
import { createDidKeyIdentity, type DidIdentity } from '@didbase/access'
import type { Didbase } from '@didbase/sdk'
import { Entry } from '@orbitdb/core'
import { base64url } from 'multiformats/bases/base64'
import all from 'it-all'
import { CID } from 'multiformats/cid'
import { concat } from 'uint8arrays'
import { livePeers, waitFor } from './peers.js'

interface PubSub {
  publish: (topic: string, data: Uint8Array) => Promise<unknown>
  getSubscribers: (topic: string) => Array<{ toString: () => string }>
}

function pubsubOf (node: Didbase): PubSub {
  return (node.helia.libp2p.services as { pubsub: PubSub }).pubsub
}

/**
 * Sign an entry with `signer` while claiming to be `claimedDid`. With the same DID for
 * both, this is an honest entry from a DID the database may or may not allow.
 */
export async function craftEntry (opts: {
  address: string
  payload: unknown
  signer: DidIdentity
  claimedDid?: string
  next?: string[]
  time?: number
}): Promise<{ hash: string, bytes: Uint8Array }> {
  const claimed = opts.claimedDid ?? opts.signer.did
  const identity = {
    id: claimed,
    hash: claimed,
    publicKey: opts.signer.did.slice('did:key:'.length),
    sign: async (_: unknown, data: Uint8Array) => base64url.baseEncode(await opts.signer.sign(data))
  }
  const time = opts.time ?? await clockAfter(opts.next ?? [])
  const entry = await Entry.create(identity as never, opts.address, opts.payload, undefined, { id: identity.publicKey, time }, opts.next ?? [], [])
  const encoded = await Entry.encode(entry)
  crafted.set(encoded.hash, time)
  return encoded
}

/** Clocks of the entries crafted here, which no peer may hold yet. */
const crafted = new Map<string, number>()

/**
 * The clock an honest entry linking to `next` carries (replicas refuse any other): one past
 * the latest of them, read from whichever running peer holds each. Unknown links count as 0.
 */
export async function clockAfter (next: readonly string[]): Promise<number> {
  let latest = 0
  for (const hash of next) {
    const known = crafted.get(hash)
    if (known !== undefined) {
      latest = Math.max(latest, known)
      continue
    }
    for (const node of livePeers()) {
      const cid = CID.parse(hash)
      // A peer the test closed (to restart it) holds nothing readable.
      if (!(await Promise.resolve(node.helia.blockstore.has(cid)).catch(() => false))) continue
      const bytes = await node.helia.blockstore.get(cid, { offline: true } as never)
      const chunks = bytes instanceof Uint8Array ? bytes : concat(await all(bytes as AsyncIterable<Uint8Array>))
      latest = Math.max(latest, (await Entry.decode(chunks)).clock.time)
      break
    }
  }
  return latest + 1
}

export function stranger (): DidIdentity {
  return createDidKeyIdentity()
}

/** Publish raw entry bytes on the database's topic once `target` is a known subscriber. */
export async function push (from: Didbase, target: Didbase, address: string, bytes: Uint8Array): Promise<void> {
  const pubsub = pubsubOf(from)
  await waitFor(() => pubsub.getSubscribers(address).some((p) => p.toString() === target.peerId), 'the replica to subscribe to the database topic')
  await pubsub.publish(address, bytes)
}
