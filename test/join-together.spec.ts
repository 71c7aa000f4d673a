/**
 * Entries that wait in a replica's queue while it is busy are joined together: an entry
 * that a later, already checked entry links to is joined in that entry's walk instead of
 * on its own. Nothing may be lost on the way, also when the later entry then fails to join.
 *
 * The replica is kept busy on purpose: a writer's entry naming a block nobody has holds
 * its queue until the stall guard gives it up (about 5 s).
 */
import { createDidKeyIdentity, type DidIdentity } from '@didbase/access'
import type { Didbase } from '@didbase/sdk'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { collect, nextEvent, peer, waitFor } from './src/peers.js'

/** A hash of a block that no one has: a real CID of bytes no node stores. */
async function missingHash (): Promise<string> {
  return (await craftEntry({ address: '/orbitdb/none', payload: { op: 'ADD', key: null, value: Math.random() }, signer: createDidKeyIdentity() })).hash
}

async function setup (): Promise<{ replica: Didbase, sender: Didbase, alice: DidIdentity, address: string, log: Awaited<ReturnType<Didbase['eventLog']>> }> {
  const replica = await peer({ memory: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
  const sender = await peer({ memory: true })
  const alice = createDidKeyIdentity()
  const log = await replica.eventLog<string>('together', { writers: [alice.did] })
  await sender.dial(replica.multiaddrs[0] as string)
  return { replica, sender, alice, address: log.address, log }
}

const add = (value: string) => ({ op: 'ADD', key: null, value })

describe('joining entries together', () => {
  it('a chain that queued behind a stalled join is joined in one walk, every entry read back', async () => {
    const { replica, sender, alice, address, log } = await setup()
    let updates = 0
    log.addEventListener('update', () => { updates++ })
    const stalled = nextEvent<{ reason: string }>(log, 'entry:rejected', 'the stalled head to be given up')
    // Alice may write, so this passes the checks; its join then waits for a block nobody has.
    await push(sender, replica, address, (await craftEntry({ address, payload: add('stuck'), signer: alice, next: [await missingHash()], time: 1 })).bytes)
    const chain: Array<{ hash: string, bytes: Uint8Array }> = []
    for (let i = 0; i < 50; i++) {
      chain.push(await craftEntry({ address, payload: add(`e${i}`), signer: alice, next: i === 0 ? [] : [chain[i - 1]?.hash as string], time: i + 1 }))
    }
    for (const entry of chain) await push(sender, replica, address, entry.bytes)
    expect((await stalled).reason).toBe('unavailable')
    await waitFor(async () => (await log.heads())[0] === chain[49]?.hash, 'the chain to be joined')
    const values = (await collect(log.entries())).map((e) => e.value).reverse()
    expect(values).toEqual(chain.map((_, i) => `e${i}`))
    // One by one, that would be 50 joins (50 updates); all 50 were checked and waiting
    // before the stalled join was given up, so a handful at most.
    expect(updates).toBeLessThan(5)
  }, 30_000)

  it('an entry that waited for a later one is joined alone when the later one cannot be', async () => {
    const { replica, sender, alice, address, log } = await setup()
    const rejected: string[] = []
    log.addEventListener('entry:rejected', (e) => { rejected.push((e as CustomEvent<{ hash: string }>).detail.hash) })
    const first = await craftEntry({ address, payload: add('stuck'), signer: alice, next: [await missingHash()], time: 1 })
    const kept = await craftEntry({ address, payload: add('kept'), signer: alice, time: 1 })
    // Links to `kept`, so `kept` waits for it, but it cannot be joined either.
    const later = await craftEntry({ address, payload: add('later'), signer: alice, next: [kept.hash, await missingHash()], time: 2 })
    await push(sender, replica, address, first.bytes)
    await push(sender, replica, address, kept.bytes)
    await push(sender, replica, address, later.bytes)
    await waitFor(async () => (await collect(log.entries())).some((e) => e.value === 'kept'), 'the entry that waited to be joined alone', 25_000)
    // The two that name a missing block are given up (their clocks cannot be checked against it, nor can they be joined).
    await waitFor(() => rejected.length >= 2, 'the entries naming a missing block to be given up', 25_000)
    expect([...rejected].sort()).toEqual([first.hash, later.hash].sort())
    expect((await collect(log.entries())).map((e) => e.value)).toEqual(['kept'])
  }, 30_000)

  it('the same for an entry that came in a heads exchange, which is never held', async () => {
    const { replica, sender, alice, address, log } = await setup()
    const first = await craftEntry({ address, payload: add('stuck'), signer: alice, next: [await missingHash()], time: 1 })
    const kept = await craftEntry({ address, payload: add('kept'), signer: alice, time: 1 })
    const later = await craftEntry({ address, payload: add('later'), signer: alice, next: [kept.hash, await missingHash()], time: 2 })
    await push(sender, replica, address, first.bytes)
    // `kept` queues behind the stalled join; `later`, held, links to it before its turn.
    const stream = await sender.helia.libp2p.dialProtocol(multiaddr(replica.multiaddrs[0] as string), `/orbitdb/heads${address}`)
    stream.send(kept.bytes)
    await stream.close()
    await push(sender, replica, address, later.bytes)
    await waitFor(async () => (await collect(log.entries())).some((e) => e.value === 'kept'), 'the entry from the heads exchange to be joined', 25_000)
    expect((await collect(log.entries())).map((e) => e.value)).toEqual(['kept'])
  }, 30_000)
})
