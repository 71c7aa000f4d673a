import { describe, expect, it } from 'vitest'
import { peer, waitFor } from './src/peers.js'

describe('WebSockets', () => {
  it('listens on a /ws address when asked and replicates over it', async () => {
    const a = await peer({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    const wsAddr = a.multiaddrs.find((m) => m.includes('/ws/'))
    expect(wsAddr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//)
    const db = await a.keyValue<string>('over-ws')
    await db.put('hello', 'websockets')

    const b = await peer({ listen: [] })
    await b.dial(wsAddr as string)
    const replica = await b.keyValue<string>(db.address)
    await waitFor(async () => (await replica.get('hello')) === 'websockets', 'the value over WebSockets')
    expect(b.helia.libp2p.getConnections().map((c) => c.remoteAddr.toString()).some((m) => m.includes('/ws'))).toBe(true)
  })
})
