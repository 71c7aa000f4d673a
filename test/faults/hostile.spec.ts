/**
 * Hostile input sent straight to a replica over the database's topic: a flood of invalid
 * entries (unsigned, forged, from strangers, for another database, undecodable), entries
 * that name blocks nobody has, entries wider than allowed. The replica keeps taking honest
 * writes while it happens, its memory stays bounded, and nothing crashes.
 */
import { createDidKeyIdentity, type Didbase } from '@didbase/sdk'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from '../src/attacker.js'
import { peer, waitFor } from '../src/peers.js'
import { LONG } from '../src/replicas.js'

const FLOOD = LONG ? 20_000 : 1_000
const HONEST = 30

/** A hash of a block that no one has: a real CID of random bytes. */
async function missingHash (attacker: Didbase): Promise<string> {
  const entry = await craftEntry({ address: '/orbitdb/none', payload: { op: 'ADD', key: null, value: Math.random() }, signer: createDidKeyIdentity() })
  void attacker
  return entry.hash
}

async function setup (acl: boolean): Promise<{ writer: Didbase, replica: Didbase, attacker: Didbase, address: string }> {
  const writer = await peer({ memory: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
  const replica = await peer({ memory: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
  const attacker = await peer({ memory: true })
  const db = await writer.keyValue<number>('target', acl ? { acl: true } : {})
  await replica.dial(writer.multiaddrs[0] as string)
  await attacker.dial(replica.multiaddrs[0] as string)
  await replica.keyValue(db.address)
  return { writer, replica, attacker, address: db.address }
}

describe('hostile input', () => {
  it(`a flood of ${FLOOD} invalid entries from one peer: honest writes keep arriving, memory stays bounded`, async () => {
    const { writer, replica, attacker, address } = await setup(false)
    const onReplica = await replica.keyValue<number>(address)
    const onWriter = await writer.keyValue<number>(address)
    const stranger = createDidKeyIdentity()
    const rss = process.memoryUsage().rss
    const kinds = [
      // a stranger's entry, correctly signed
      async (i: number) => (await craftEntry({ address, payload: { op: 'PUT', key: `s${i}`, value: i }, signer: stranger })).bytes,
      // the writer's DID claimed, a stranger's key
      async (i: number) => (await craftEntry({ address, payload: { op: 'PUT', key: `f${i}`, value: i }, signer: stranger, claimedDid: writer.did })).bytes,
      // an entry for another database
      async (i: number) => (await craftEntry({ address: '/orbitdb/zdpuAnotherDatabase', payload: { op: 'PUT', key: `o${i}`, value: i }, signer: stranger })).bytes,
      // bytes that are not an entry at all
      async (i: number) => new TextEncoder().encode(`not an entry ${i}`)
    ]
    const flood = (async () => {
      for (let i = 0; i < FLOOD; i++) await push(attacker, replica, address, await (kinds[i % kinds.length] as (i: number) => Promise<Uint8Array>)(i))
    })()
    for (let i = 0; i < HONEST; i++) await onWriter.put(`honest-${i}`, i)
    await waitFor(async () => (await onReplica.get(`honest-${HONEST - 1}`)) === HONEST - 1, 'the honest writes to reach the replica during the flood')
    await flood
    await waitFor(async () => JSON.stringify(await onReplica.heads()) === JSON.stringify(await onWriter.heads()), 'the replica to hold the writer\'s log')
    expect(await onReplica.size()).toBe(HONEST)
    const grown = (process.memoryUsage().rss - rss) / 2 ** 20
    console.log(JSON.stringify({ suite: 'hostile-flood', entries: FLOOD, honest: HONEST, rssGrowthMiB: Math.round(grown) }))
    expect(grown).toBeLessThan(300)
  }, LONG ? 600_000 : 60_000)

  it('a stranger\'s entries naming blocks nobody has, with too many links, or of 2 MiB, do not hold up honest writes', async () => {
    const { writer, replica, attacker, address } = await setup(true)
    const onReplica = await replica.keyValue<number>(address)
    const onWriter = await writer.keyValue<number>(address)
    const stranger = createDidKeyIdentity()
    const missing = await Promise.all([...Array(64).keys()].map(async () => missingHash(attacker)))
    const wide = await Promise.all([...Array(1100).keys()].map(async () => missingHash(attacker)))
    await push(attacker, replica, address, (await craftEntry({ address, payload: { op: 'PUT', key: 'x', value: 1 }, signer: stranger, next: missing, time: 2 })).bytes)
    await push(attacker, replica, address, (await craftEntry({ address, payload: { op: 'PUT', key: 'y', value: 1 }, signer: stranger, next: wide, time: 2 })).bytes)
    // And a stranger's 2 MiB entry.
    await push(attacker, replica, address, (await craftEntry({ address, payload: { op: 'PUT', key: 'z', value: 'x'.repeat(2 * 2 ** 20) }, signer: stranger })).bytes)
    const started = Date.now()
    await onWriter.put('honest', 1)
    await waitFor(async () => (await onReplica.get('honest')) === 1, 'the honest write to arrive', 10_000)
    console.log(JSON.stringify({ suite: 'hostile-missing-links', honestWriteArrivedMs: Date.now() - started }))
    expect(await onReplica.get('x')).toBeUndefined()
    expect(await onReplica.get('y')).toBeUndefined()
    expect(await onReplica.get('z')).toBeUndefined()
  })

  it('a stranger\'s head naming blocks nobody has, sent in a heads exchange, holds honest writes only briefly', async () => {
    const { writer, replica, attacker, address } = await setup(true)
    const onReplica = await replica.keyValue<number>(address)
    const onWriter = await writer.keyValue<number>(address)
    const missing = await Promise.all([...Array(64).keys()].map(async () => missingHash(attacker)))
    const head = await craftEntry({ address, payload: { op: 'PUT', key: 'x', value: 1 }, signer: createDidKeyIdentity(), next: missing, time: 2 })
    // What OrbitDB's sync does when peers meet, with a head of the attacker's choosing.
    const stream = await attacker.helia.libp2p.dialProtocol(multiaddr(replica.multiaddrs[0] as string), `/orbitdb/heads${address}`)
    stream.send(head.bytes)
    await stream.close()
    const started = Date.now()
    await onWriter.put('honest', 1)
    // Without the stall guard the replica's queue is held for the whole fetch timeout (30 s).
    await waitFor(async () => (await onReplica.get('honest')) === 1, 'the honest write to arrive', 20_000)
    console.log(JSON.stringify({ suite: 'hostile-head', honestWriteArrivedMs: Date.now() - started }))
    expect(await onReplica.get('x')).toBeUndefined()
  })
})
