import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createDidbase, type KeyValueDatabase } from '@didbase/sdk'
import { LevelStorage } from '@orbitdb/core'
import { describe, expect, it } from 'vitest'
import { kinds } from './src/kinds.js'
import { collect, connect, peer, tempDir, waitFor } from './src/peers.js'

describe('restart from disk', () => {
  it('keeps the identity file private', async () => {
    const dir = await tempDir()
    const p = await createDidbase({ directory: dir })
    await p.close()
    expect((await stat(join(dir, 'identity.json'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'peer.key'))).mode & 0o777).toBe(0o600)
  })

  it.each(kinds)('$name: same DID and peer id, same data, and sync resumes', async (kind) => {
    const dir = await tempDir()
    const first = await createDidbase({ directory: dir })
    const did = first.did
    const peerId = first.peerId
    const db = await kind.create(first, 'durable')
    for (let i = 0; i < 5; i++) await db.write(i)
    const rowsBefore = await db.rows()
    const address = db.address
    await first.close()

    const again = await createDidbase({ directory: dir })
    try {
      expect(again.did).toBe(did)
      expect(again.peerId).toBe(peerId)
      const reopened = await kind.open(again, address)
      expect(await reopened.rows()).toEqual(rowsBefore)

      // A peer that was never connected catches up, then follows new writes.
      const other = await peer()
      await connect(other, again)
      const replica = await kind.open(other, address)
      await waitFor(async () => (await replica.rows()).length === 5, 'catch-up after restart')
      await reopened.write(5)
      const rows = await waitFor(async () => {
        const r = await replica.rows()
        return r.length === 6 ? r : undefined
      }, 'a write made after restart')
      expect(rows).toEqual(await reopened.rows())
    } finally {
      await again.close()
    }
  })
})

describe('record index snapshot', () => {
  /** Count the entries the handle reads from its log (the index reads through `db.log.get`). */
  function countReads (handle: object): { reads: number } {
    const log = (handle as unknown as { db: { log: { get: (hash: string) => Promise<unknown> } } }).db.log
    const counter = { reads: 0 }
    const get = log.get.bind(log)
    log.get = async (hash) => {
      counter.reads++
      return get(hash)
    }
    return counter
  }

  /** Open the key-value database `address` on a new node on `dir`, give it to `read`, then close the node. */
  async function reopenKeyValue (dir: string, address: string, read: (db: KeyValueDatabase<number>) => Promise<void>): Promise<void> {
    const again = await createDidbase({ directory: dir })
    try {
      await read(await again.keyValue<number>(address))
    } finally {
      await again.close()
    }
  }

  it('a reopened key-value database starts from its snapshot, reads only what is newer, and reads the same values', async () => {
    const dir = await tempDir()
    const first = await createDidbase({ directory: dir })
    const kv = await first.keyValue<number>('snapshot')
    for (let i = 0; i < 200; i++) await kv.put(`k${i % 50}`, i)
    await kv.del('k7')
    const expected = (await collect(kv.entries())).map((r) => [r.key, r.value])
    const address = kv.address
    await first.close()

    await reopenKeyValue(dir, address, async (reopened) => {
      const counter = countReads(reopened)
      expect(await reopened.get('k49')).toBe(199)
      // One read: the value of k49. Without the snapshot, all 201 entries are read first.
      expect(counter.reads).toBe(1)
      expect(await reopened.get('k7')).toBeUndefined()
      await reopened.put('k7', 1000)
      expect((await collect(reopened.entries())).map((r) => [r.key, r.value])).toEqual([['k7', 1000], ...expected])
    })
  })

  it('a database reopened at the heads it closed with answers its first read from the key records, without parsing the snapshot', async () => {
    const dir = await tempDir()
    const first = await createDidbase({ directory: dir })
    const kv = await first.keyValue<number>('key-records')
    for (let i = 0; i < 100; i++) await kv.put(`k${i % 50}`, i)
    await kv.batch((b) => { b.put('k1', 1001).del('k2') })
    const address = kv.address
    await first.close()

    await reopenKeyValue(dir, address, async (reopened) => {
      const counter = countReads(reopened)
      // An old key, written long before the heads: one read, its value's entry.
      expect(await reopened.get('k3')).toBe(53)
      expect(counter.reads).toBe(1)
      expect(await reopened.get('k1')).toBe(1001)
      expect(await reopened.get('k2')).toBeUndefined()
      expect((await collect(reopened.entries())).length).toBe(49)
    })
  })

  it('key records saved at other heads than the log\'s are not used', async () => {
    const dir = await tempDir()
    const first = await createDidbase({ directory: dir })
    const kv = await first.keyValue<number>('stale-records')
    const old = await kv.put('a', 1)
    await kv.put('a', 2)
    const address = kv.address
    await kv.close()
    // As a crash after more writes would leave them: saved at older heads, and saying otherwise.
    const { Key } = await import('interface-datastore')
    const { base64url } = await import('multiformats/bases/base64')
    const base = `/didbase/record-index/${address.split('/').at(-1)}-keys`
    await first.helia.datastore.put(new Key(`${base}/heads`), new TextEncoder().encode(JSON.stringify([old])))
    const recordOfA = new Key(`${base}/k${base64url.baseEncode(new TextEncoder().encode('a'))}`)
    const lie = { ...JSON.parse(new TextDecoder().decode(await first.helia.datastore.get(recordOfA))), hash: old }
    await first.helia.datastore.put(recordOfA, new TextEncoder().encode(JSON.stringify(lie)))
    await first.close()

    await reopenKeyValue(dir, address, async (reopened) => {
      expect(await reopened.get('a')).toBe(2)
    })
  })

  it('a snapshot that does not parse is ignored, and the index is rebuilt from the log', async () => {
    const dir = await tempDir()
    const first = await createDidbase({ directory: dir })
    const docs = await first.documents<{ _id: string, n: number }>('snapshot-docs')
    for (let i = 0; i < 20; i++) await docs.put({ _id: `d${i % 5}`, n: i })
    const address = docs.address
    // Damage the saved snapshot in the node's datastore.
    await docs.close()
    const { Key } = await import('interface-datastore')
    const key = new Key(`/didbase/record-index/${address.split('/').at(-1)}`)
    expect((await first.helia.datastore.get(key)).length).toBeGreaterThan(0)
    await first.helia.datastore.put(key, new TextEncoder().encode('{"v":1,"indexed":'))
    await first.close()

    const again = await createDidbase({ directory: dir })
    try {
      const reopened = await again.documents<{ _id: string, n: number }>(address)
      expect(await reopened.get('d4')).toEqual({ _id: 'd4', n: 19 })
      expect((await collect(reopened.entries())).length).toBe(5)
    } finally {
      await again.close()
    }
  })
})

describe('log index', () => {
  it('every entry written before a close is still known to the log after a restart', async () => {
    const dir = await tempDir()
    const first = await createDidbase({ directory: dir })
    const log = await first.eventLog<number>('index-flush')
    const hashes: string[] = []
    // Written faster than the index writes its markers behind: the close must write them all.
    for (let i = 0; i < 300; i++) hashes.push(await log.add(i))
    const address = log.address
    await first.close()

    const again = await createDidbase({ directory: dir })
    try {
      const reopened = await again.eventLog<number>(address)
      const orbitLog = (reopened as unknown as { db: { log: { has: (hash: string) => Promise<boolean> } } }).db.log
      const known = await Promise.all(hashes.map(async (h) => orbitLog.has(h)))
      expect(known.filter((k) => !k).length).toBe(0)
      expect(await reopened.size()).toBe(300)
    } finally {
      await again.close()
    }
  })
})

describe('log index after a crash', () => {
  it('heads whose markers were not written yet are marked on open, so a later join leaves one head', async () => {
    const writer = await peer()
    const dir = await tempDir()
    let replica = await createDidbase({ directory: dir })
    await connect(writer, replica)
    const log = await writer.eventLog<number>('crash-markers')
    const hashes: string[] = []
    for (let i = 0; i < 20; i++) hashes.push(await log.add(i))
    let copy = await replica.eventLog<number>(log.address)
    await waitFor(async () => (await copy.heads())[0] === hashes[19], 'the replica to catch up')
    await replica.close()

    // What a SIGKILL before the index's write-behind leaves: the last markers missing.
    const indexPath = join(dir, 'orbitdb', log.address, 'log', '_index')
    const index = await LevelStorage({ path: indexPath })
    for (const hash of hashes.slice(15)) await index.del(hash)
    expect(await index.get(hashes[19] as string)).toBeUndefined()
    await index.close()

    replica = await createDidbase({ directory: dir })
    try {
      await connect(writer, replica)
      copy = await replica.eventLog<number>(log.address)
      const orbitLog = (copy as unknown as { db: { log: { has: (hash: string) => Promise<boolean> } } }).db.log
      expect(await orbitLog.has(hashes[19] as string)).toBe(true)
      const next = await log.add(20)
      // Unmarked, the old head would stay a head beside the new one, for good.
      await waitFor(async () => (await copy.heads()).includes(next), 'the new entry to arrive')
      expect(await copy.heads()).toEqual([next])
      expect(await copy.size()).toBe(21)
    } finally {
      await replica.close()
      await writer.close()
    }
  })
})
