/**
 * Replicas that wrote while apart read the same thing once they meet, whatever order the
 * entries arrived in: the same key written on both sides (two DIDs, or one DID on two
 * devices with identical clocks), for key-value, documents and event logs.
 */
import { createDidKeyIdentity, type Didbase } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { collect, peer, waitFor } from './src/peers.js'

async function apart (a: Didbase, b: Didbase): Promise<void> {
  await a.helia.libp2p.hangUp(b.helia.libp2p.peerId)
  await waitFor(() => a.helia.libp2p.getConnections(b.helia.libp2p.peerId).length === 0, 'the two peers to be apart')
}

async function meet (a: Didbase, b: Didbase, logs: Array<[{ heads: () => Promise<string[]> }, { heads: () => Promise<string[]> }]>): Promise<void> {
  await a.dial(b.multiaddrs[0] as string)
  await waitFor(async () => {
    for (const [x, y] of logs) if (JSON.stringify(await x.heads()) !== JSON.stringify(await y.heads())) return false
    return true
  }, 'both replicas to hold the same log')
}

const LISTEN = { listen: ['/ip4/127.0.0.1/tcp/0'] }

describe('convergence after writing apart', () => {
  it('two DIDs write one key apart: both replicas read the later write (key-value and documents)', async () => {
    const a = await peer(LISTEN)
    const b = await peer(LISTEN)
    const writers = [a.did, b.did]
    const kvA = await a.keyValue<string>('kv', { writers })
    const docsA = await a.documents<{ _id: string, by: string }>('docs', { writers })
    await b.dial(a.multiaddrs[0] as string)
    const kvB = await b.keyValue<string>(kvA.address)
    const docsB = await b.documents<{ _id: string, by: string }>(docsA.address)
    await Promise.all([kvB.whenSynced(), docsB.whenSynced()])
    await apart(a, b)

    // b writes twice, so its second write is later by clock than a's single one.
    await kvA.put('milk', 'a')
    await kvB.put('other', 'b')
    await kvB.put('milk', 'b')
    await docsA.put({ _id: 'milk', by: 'a' })
    await docsB.put({ _id: 'other', by: 'b' })
    await docsB.put({ _id: 'milk', by: 'b' })
    // Concurrent writes with equal clocks: the clock id decides, the same way everywhere.
    await kvA.put('tie', 'a')
    await kvB.put('tie', 'b')

    await meet(a, b, [[kvA, kvB], [docsA, docsB]])
    expect(await kvA.get('milk')).toBe('b')
    expect(await kvB.get('milk')).toBe('b')
    expect(await kvA.get('tie')).toBe(await kvB.get('tie'))
    expect(await docsA.get('milk')).toEqual({ _id: 'milk', by: 'b' })
    expect(await docsB.get('milk')).toEqual({ _id: 'milk', by: 'b' })
    expect(await collect(kvA.entries())).toEqual(await collect(kvB.entries()))
    expect(await collect(docsA.entries())).toEqual(await collect(docsB.entries()))
  })

  it('one DID on two devices: equal clocks still give one order and one value everywhere', async () => {
    const identity = createDidKeyIdentity()
    const laptop = await peer({ identity, ...LISTEN })
    const phone = await peer({ identity, ...LISTEN })
    const kvL = await laptop.keyValue<string>('kv')
    const logL = await laptop.eventLog<string>('log')
    await phone.dial(laptop.multiaddrs[0] as string)
    const kvP = await phone.keyValue<string>(kvL.address)
    const logP = await phone.eventLog<string>(logL.address)
    await Promise.all([kvP.whenSynced(), logP.whenSynced()])
    await apart(laptop, phone)

    // Same DID, same clock id, same Lamport times on both sides.
    for (const [kv, log, device] of [[kvL, logL, 'laptop'], [kvP, logP, 'phone']] as const) {
      await kv.put('milk', device)
      await log.add(`${device} 1`)
      await log.add(`${device} 2`)
    }

    await meet(laptop, phone, [[kvL, kvP], [logL, logP]])
    expect(await kvL.get('milk')).toBe(await kvP.get('milk'))
    const order = async (log: typeof logL): Promise<string[]> => (await collect(log.entries())).map((e) => e.value)
    expect(await order(logL)).toEqual(await order(logP))
    expect((await order(logL)).sort()).toEqual(['laptop 1', 'laptop 2', 'phone 1', 'phone 2'])
  })
})
