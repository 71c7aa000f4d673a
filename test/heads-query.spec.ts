/**
 * `/didbase/heads/1.0.0` between real nodes over loopback: a peer answers with its heads of
 * a database it has open and with nothing for one it does not; garbage, an oversized request
 * and a request that never ends cost it nothing lasting.
 */
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { HEADS_PROTOCOL, queryHeads } from '../packages/sdk/src/sync/heads-query.js'
import { connect, peer } from './src/peers.js'

describe('heads queries', () => {
  it('answers with the heads of an open database, nothing for another, and survives hostile requests', async () => {
    const holder = await peer()
    const asker = await peer()
    await connect(asker, holder)
    const db = await holder.keyValue<string>('queried')
    const hash = await db.put('k', 'v')
    const target = multiaddr(holder.multiaddrs[0] as string)
    expect(await queryHeads(asker.helia.libp2p, target, db.address)).toEqual([hash])
    expect(await queryHeads(asker.helia.libp2p, target, '/orbitdb/zdpuNotOpenHere')).toBeUndefined()
    // Not JSON, a request past the size limit, a request that stops half way.
    for (const bytes of [new TextEncoder().encode('{not json'), new Uint8Array(64 * 1024)]) {
      const stream = await asker.helia.libp2p.dialProtocol(target, HEADS_PROTOCOL)
      await lpStream(stream, { maxDataLength: 1 << 20 }).write(bytes).catch(() => {})
      await stream.close().catch(() => {})
    }
    const stalled = await asker.helia.libp2p.dialProtocol(target, HEADS_PROTOCOL)
    stalled.abort(new Error('gone'))
    const mine = await asker.keyValue<string>(db.address)
    await mine.whenSynced()
    await mine.whenPeerHolds(holder.peerId, hash)
    expect(await queryHeads(asker.helia.libp2p, target, db.address)).toEqual([hash])
  })
})
