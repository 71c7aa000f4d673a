/**
 * Entry storage: an entry that passed the topic validator is served to a join from memory
 * and stored, with no peer asked; the entries held are bounded; which held entries wait
 * to be joined with a later one. Real Helia (LevelDB on
 * disk, libp2p on loopback) with no peer connected, so any block not held can only be
 * fetched, and a stopped fetch fails.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { LogEntry } from '@orbitdb/core'
import { createDidbase, type Didbase } from '../src/index.js'
import { closableEntryStorage, JoinFetches, MAX_ARRIVED, MAX_ARRIVED_BYTES } from '../src/storage/entry-storage.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done()
})

async function node (): Promise<Didbase> {
  const directory = await mkdtemp(join(tmpdir(), 'didbase-entry-storage-'))
  const didbase = await createDidbase({ directory, listen: ['/ip4/127.0.0.1/tcp/0'] })
  cleanup.push(async () => {
    await didbase.close()
    await rm(directory, { recursive: true, force: true })
  })
  return didbase
}

async function block (n: number): Promise<{ hash: string, cid: CID, bytes: Uint8Array }> {
  const bytes = dagCbor.encode({ v: 2, n })
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  return { hash: cid.toString(base58btc), cid, bytes }
}

describe('entry storage', () => {
  it('serves an entry that arrived from memory and stores it, holding it until a join adds it', async () => {
    const { helia } = await node()
    const closing = new AbortController()
    const fetches = new JoinFetches(closing.signal)
    const storage = await closableEntryStorage(helia, fetches)
    const { hash, cid, bytes } = await block(1)
    // Stopped fetches: a read that went to the network would fail rather than wait.
    closing.abort(new Error('no fetching in this test'))

    fetches.arrived({ hash, next: [] }, bytes)
    expect(await storage.get(hash)).toEqual(bytes)
    expect(await helia.blockstore.has(cid)).toBe(true)
    expect(fetches.fetched).toBe(1)
    // A join that fails after the read must still find it (see `drop`).
    expect(fetches.waiting(hash)).toEqual(bytes)
    await storage.persist?.(hash)
    expect(fetches.waiting(hash)).toBeUndefined()
  })

  it('without it, the same read goes to the network and a stopped fetch fails', async () => {
    const { helia } = await node()
    const closing = new AbortController()
    const fetches = new JoinFetches(closing.signal)
    const storage = await closableEntryStorage(helia, fetches)
    const { hash, cid } = await block(2)
    closing.abort(new Error('no fetching in this test'))

    await expect(storage.get(hash)).rejects.toThrow()
    expect(await helia.blockstore.has(cid)).toBe(false)
  })

  it('a read of a stored block waits for no arrival once it has the bytes', async () => {
    const { helia } = await node()
    const fetches = new JoinFetches(new AbortController().signal)
    const storage = await closableEntryStorage(helia, fetches)
    const stored = await Promise.all([3, 4, 5].map(async (n) => block(n)))
    for (const { cid, bytes } of stored) await helia.blockstore.put(cid, bytes)
    for (const { hash, bytes } of stored) expect(new Uint8Array(await storage.get(hash) ?? [])).toEqual(bytes)
    expect(fetches.awaited).toBe(0)
  })

  it(`holds at most ${MAX_ARRIVED} entries, letting the oldest go`, async () => {
    const fetches = new JoinFetches(new AbortController().signal)
    const blocks = await Promise.all([...Array(MAX_ARRIVED + 1).keys()].map(block))
    for (const { hash, bytes } of blocks) fetches.arrived({ hash, next: [] }, bytes)
    expect(fetches.waiting(blocks[0]?.hash as string)).toBeUndefined()
    expect(fetches.waiting(blocks[1]?.hash as string)).toEqual(blocks[1]?.bytes)
    expect(fetches.waiting(blocks[MAX_ARRIVED]?.hash as string)).toEqual(blocks[MAX_ARRIVED]?.bytes)
  }, 30_000)

  it(`holds at most ${MAX_ARRIVED_BYTES / 2 ** 20} MiB, counting copies, not the messages they came in`, () => {
    const fetches = new JoinFetches(new AbortController().signal)
    const big = new Uint8Array(MAX_ARRIVED_BYTES / 4)
    for (let i = 0; i < 5; i++) fetches.arrived({ hash: `h${i}`, next: [] }, big)
    expect(fetches.waiting('h0')).toBeUndefined()
    expect(fetches.waiting('h1')?.byteLength).toBe(big.byteLength)
    expect(fetches.waiting('h4')?.byteLength).toBe(big.byteLength)
    // A small entry inside a padded message keeps only its own bytes.
    const message = new Uint8Array(4 * 2 ** 20)
    fetches.arrived({ hash: 'small', next: [] }, message.subarray(100, 400))
    expect(fetches.waiting('small')?.buffer.byteLength).toBe(300)
  })

  it('an entry left to a held entry\'s join comes back when that one goes unjoined, not when it is joined', () => {
    const fetches = new JoinFetches(new AbortController().signal)
    let told = 0
    fetches.onOrphans = () => { told++ }
    const bytes = new Uint8Array([1])
    const entry = (hash: string) => ({ hash }) as LogEntry
    fetches.arrived({ hash: 'b', next: ['a', 'x'] }, bytes)
    fetches.arrived({ hash: 'c', next: ['a'] }, bytes)
    expect(fetches.skip(entry('a'))).toBe(true)
    expect(fetches.skip(entry('b'))).toBe(false)
    // 'c' still links to 'a'.
    fetches.drop('b')
    expect(fetches.takeOrphans()).toEqual([])
    // Not held by anyone now: 'a' must be joined alone.
    fetches.drop('c')
    expect(told).toBe(1)
    expect(fetches.takeOrphans().map((e) => e.hash)).toEqual(['a'])
    expect(fetches.takeOrphans()).toEqual([])

    // A join of the holder adds what it links to: nothing comes back.
    fetches.arrived({ hash: 'e', next: ['d'] }, bytes)
    expect(fetches.skip(entry('d'))).toBe(true)
    fetches.joined('e')
    fetches.joined('d')
    expect(fetches.takeOrphans()).toEqual([])

    // A holder let go to make room: what it held back comes back.
    fetches.arrived({ hash: 'g', next: ['f'] }, new Uint8Array(MAX_ARRIVED_BYTES))
    expect(fetches.skip(entry('f'))).toBe(true)
    fetches.arrived({ hash: 'h', next: [] }, bytes)
    expect(fetches.waiting('g')).toBeUndefined()
    expect(fetches.takeOrphans().map((e) => e.hash)).toEqual(['f'])
  })
})
