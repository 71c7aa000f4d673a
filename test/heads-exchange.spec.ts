/**
 * OrbitDB's heads exchange (when peers meet) writes each head's bytes to a libp2p stream
 * with no framing. libp2p delivers what arrived, not what was sent: heads that pile up in a
 * busy peer's buffers come as one chunk, and a large head can come in pieces. Here a peer
 * sends heads both ways on purpose; the replica must join every head, and report no error.
 */
import { createDidKeyIdentity, type Didbase } from '@didbase/sdk'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { craftEntry } from './src/attacker.js'
import { peer, waitFor } from './src/peers.js'
import { concat } from 'uint8arrays/concat'

async function setup (): Promise<{ replica: Didbase, sender: Didbase, heads: Uint8Array[], address: string, errors: string[], values: () => Promise<unknown[]> }> {
  const replica = await peer({ memory: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
  const sender = await peer({ memory: true })
  const alice = createDidKeyIdentity()
  const bob = createDidKeyIdentity()
  const log = await replica.eventLog<string>('heads', { writers: [alice.did, bob.did] })
  const errors: string[] = []
  log.addEventListener('sync:error', (e) => errors.push((e as CustomEvent<Error>).detail.message))
  // Two heads: entries by two writers, neither knowing of the other's.
  const heads = await Promise.all([
    craftEntry({ address: log.address, payload: { op: 'ADD', key: null, value: 'from alice' }, signer: alice }),
    craftEntry({ address: log.address, payload: { op: 'ADD', key: null, value: `from bob ${'x'.repeat(200_000)}` }, signer: bob })
  ])
  const values = async (): Promise<unknown[]> => (await collect(log.entries())).map((e) => e.value).sort()
  return { replica, sender, heads: heads.map((h) => h.bytes), address: log.address, errors, values }
}

async function collect<T> (source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

describe('heads exchange', () => {
  it('joins heads that arrive together in one chunk', async () => {
    const { replica, sender, heads, address, errors, values } = await setup()
    const stream = await sender.helia.libp2p.dialProtocol(multiaddr(replica.multiaddrs[0] as string), `/orbitdb/heads${address}`)
    stream.send(concat(heads))
    await stream.close()
    await waitFor(async () => errors.length > 0 || (await values()).length === 2, 'both heads to be joined')
    expect(errors).toEqual([])
    expect((await values()).map((v) => String(v).slice(0, 10))).toEqual(['from alice', 'from bob x'])
  })

  it('joins a head that arrives in pieces, and one beside it', async () => {
    const { replica, sender, heads, address, errors, values } = await setup()
    const stream = await sender.helia.libp2p.dialProtocol(multiaddr(replica.multiaddrs[0] as string), `/orbitdb/heads${address}`)
    const all = concat(heads)
    for (let at = 0; at < all.byteLength; at += 1000) {
      stream.send(all.subarray(at, at + 1000))
      await stream.onDrain()
    }
    await stream.close()
    await waitFor(async () => errors.length > 0 || (await values()).length === 2, 'both heads to be joined')
    expect(errors).toEqual([])
    expect(await values()).toHaveLength(2)
  })
})
