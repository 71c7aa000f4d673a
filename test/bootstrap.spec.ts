import { describe, expect, it } from 'vitest'
import { peer, waitFor } from './src/peers.js'

describe('bootstrap peers', () => {
  it('dials the bootstrap list at start and replicates without an explicit dial', async () => {
    const a = await peer()
    const db = await a.eventLog<string>('announcements')
    await db.add('hi')
    const b = await peer({ bootstrap: [a.multiaddrs[0] as string] })
    await waitFor(() => b.helia.libp2p.getConnections(a.helia.libp2p.peerId).length > 0, 'a connection to the bootstrap peer')
    const replica = await b.eventLog<string>(db.address)
    const [first] = await waitFor(async () => {
      const all = []
      for await (const e of replica.entries()) all.push(e)
      return all.length === 1 ? all : undefined
    }, 'the event from the bootstrap peer')
    expect(first).toMatchObject({ value: 'hi', writer: a.did })
  })
})
