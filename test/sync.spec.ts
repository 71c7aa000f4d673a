/**
 * Catching up and staying available: `sync:progress` while a replica catches up, the
 * `didbase sync` command, pins to an always-on replicator (who may ask, what it keeps,
 * hostile requests), and the circuit relay it runs for peers that cannot be dialed.
 */
import { createDidbase, type KeyValueDatabase, PinRefusedError, type SyncProgress } from '@didbase/sdk'
import { relayOf, startReplicator, type Replicator } from '@didbase/sdk/replicator'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { didbase } from './src/cli.js'
import { nextEvent, peer, tempDir, waitFor } from './src/peers.js'

const ENTRIES = 600

async function fill (db: KeyValueDatabase<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await db.put(`k${i}`, i)
}

const replicators: Replicator[] = []
afterEach(async () => {
  await Promise.allSettled(replicators.splice(0).map(async (r) => r.close()))
})

async function replicator (init: Partial<Parameters<typeof startReplicator>[0]> = {}): Promise<{ rep: Replicator, address: string, events: Array<{ event: string, [k: string]: unknown }> }> {
  const events: Array<{ event: string, [k: string]: unknown }> = []
  const rep = await startReplicator({ directory: await tempDir(), listen: ['/ip4/127.0.0.1/tcp/0'], log: (event, detail) => events.push({ event, ...detail }), ...init })
  replicators.push(rep)
  return { rep, address: rep.didbase.multiaddrs[0] as string, events }
}

describe('catching up', () => {
  it('reports progress while a fresh replica catches up, ending with every entry received', async () => {
    const writer = await peer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const db = await writer.keyValue<number>('progress')
    await fill(db, ENTRIES)
    const reader = await peer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    await reader.dial(writer.multiaddrs[0] as string)
    const copy = await reader.keyValue<number>(db.address)
    const seen: SyncProgress[] = []
    copy.addEventListener('sync:progress', (e) => seen.push(e.detail))
    const last = await nextEvent<SyncProgress>(copy, 'sync:progress', 'the catch-up to finish', (p) => p.done)
    expect(await copy.whenSynced({ signal: AbortSignal.timeout(10_000) })).toBe(writer.peerId)
    expect(last).toEqual({ received: ENTRIES, expected: ENTRIES, done: true })
    const received = seen.map((p) => p.received)
    expect(received).toEqual([...received].sort((a, b) => a - b))
    expect(await copy.size()).toBe(ENTRIES)
    expect(await copy.get(`k${ENTRIES - 1}`)).toBe(ENTRIES - 1)
  })

  it('didbase sync fetches a database from a peer into a directory that then reads it offline', async () => {
    const writer = await peer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const db = await writer.keyValue<number>('cli-sync')
    await fill(db, ENTRIES)
    const at = writer.multiaddrs[0] as string
    const dir = await tempDir()
    const run = await didbase(dir, 'sync', db.address, '--peer', at, '--json')
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ address: db.address, entries: ENTRIES, heads: await db.heads() })
    const progress = run.stderr.split('\n').map((l) => JSON.parse(l) as SyncProgress & { event: string })
    expect(progress.at(-1)).toEqual({ event: 'progress', received: ENTRIES, expected: ENTRIES, done: true })
    await writer.close()
    const offline = JSON.parse((await didbase(dir, 'list', db.address, '--json')).stdout) as unknown[]
    expect(offline).toHaveLength(ENTRIES)
  })

  it('didbase sync says what to do when the peer is missing or unreachable', async () => {
    const dir = await tempDir()
    const address = (await didbase(dir, 'create', 'keyvalue', 'lonely')).stdout
    const noPeer = await didbase(dir, 'sync', address)
    expect(noPeer.code).toBe(1)
    expect(noPeer.stderr).toContain('sync needs --peer')
    const down = await didbase(dir, 'sync', address, '--peer', '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq', '--json')
    expect(down.code).toBe(4)
    expect(JSON.parse(down.stderr)).toMatchObject({ error: 'PeerUnreachableError' })
  })
})

describe('pins to an always-on replicator', () => {
  it('keeps databases its creators pin, with their entries, and refuses the rest', async () => {
    const alice = await peer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const bob = await peer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const { rep, address } = await replicator({ creators: [alice.did] })
    await alice.dial(address)
    await bob.dial(address)

    const notes = await alice.keyValue<string>('notes')
    await notes.put('n1', 'kept')
    await alice.pin(notes.address, address)
    expect(rep.serving()).toEqual([notes.address])
    const kept = (await rep.serve(notes.address)) as KeyValueDatabase<string>
    expect(await kept.get('n1')).toBe('kept')

    const spam = await bob.keyValue<string>('spam')
    await expect(alice.pin(spam.address, address)).rejects.toMatchObject({ name: 'PinRefusedError', reason: 'not-allowed' })
    // Naming alice as a co-admin does not make bob's database hers.
    const shared = await bob.keyValue<string>('shared', { admins: [bob.did, alice.did] })
    await expect(bob.pin(shared.address, address)).rejects.toMatchObject({ name: 'PinRefusedError', reason: 'not-allowed' })
    await expect(bob.pin('/orbitdb/zdpuAnotAnAddress', address)).rejects.toMatchObject({ name: 'InvalidAddressError' })
    expect(rep.serving()).toEqual([notes.address])
  })

  it('refuses every pin unless started with creators', async () => {
    const alice = await peer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const { rep, address } = await replicator()
    await alice.dial(address)
    const db = await alice.keyValue('mine')
    const refused = await alice.pin(db.address, address).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(PinRefusedError)
    expect(refused).toMatchObject({ reason: 'not-accepting' })
    expect(rep.serving()).toEqual([])
  })

  it('answers malformed and oversized pin requests with a refusal, and keeps working', async () => {
    const alice = await peer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const { rep, address } = await replicator({ creators: ['*'] })
    const ask = async (bytes: Uint8Array): Promise<unknown> => {
      const stream = await alice.helia.libp2p.dialProtocol(multiaddr(address), '/didbase/pin/1.0.0')
      const lp = lpStream(stream)
      await lp.write(bytes)
      try {
        return JSON.parse(new TextDecoder().decode((await lp.read()).subarray()))
      } catch (err) {
        return (err as Error).name
      } finally {
        await stream.close().catch(() => {})
      }
    }
    expect(await ask(new TextEncoder().encode('{not json'))).toMatchObject({ ok: false, reason: 'invalid-request' })
    expect(await ask(new TextEncoder().encode('{"address":42}'))).toMatchObject({ ok: false, reason: 'invalid-request' })
    expect(await ask(new TextEncoder().encode('{"address":"/orbitdb/zdpu-nope"}'))).toMatchObject({ ok: false, reason: 'invalid-request' })
    // Longer than any request may be: the replicator resets the stream instead of reading it.
    expect(await ask(new Uint8Array(100_000))).not.toMatchObject({ ok: true })
    const db = await alice.keyValue<string>('after-the-noise')
    await db.put('k', 'v')
    await alice.pin(db.address, address)
    expect(rep.serving()).toEqual([db.address])
  })
})

describe('circuit relay', () => {
  it('lets a peer that listens only through the replicator be dialed through it', async () => {
    const { rep, address, events } = await replicator()
    expect(events.some((e) => e.event === 'relaying')).toBe(true)
    const hidden = await createDidbase({ memory: true, listen: ['/p2p-circuit'], bootstrap: [address] })
    const visitor = await peer({ memory: true, listen: [] })
    try {
      const relayed = await waitFor(() => hidden.multiaddrs.find((a) => a.includes('/p2p-circuit/')), 'a relayed address')
      expect(relayed.startsWith(address)).toBe(true)
      await visitor.dial(relayed)
      expect(visitor.helia.libp2p.getConnections().map((c) => c.remotePeer.toString())).toContain(hidden.peerId)
      expect(relayOf(rep.didbase)?.reservations.has(hidden.helia.libp2p.peerId)).toBe(true)
    } finally {
      await hidden.close()
    }
  })
})
