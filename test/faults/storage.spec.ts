/**
 * Storage faults: a block store that runs out of space makes a write fail whole (nothing
 * visible, heads unchanged, nothing sent) and the database works again once space returns;
 * a block damaged on disk is refused when read, and never served to peers. The stores are
 * real in-memory block stores with a fault switched on, since a full or failing disk
 * cannot be had here on demand.
 */
import { createDidbase, type KeyValueDatabase } from '@didbase/sdk'
import { MemoryBlockstore } from 'blockstore-core'
import type { AbortOptions, AwaitIterable } from 'interface-store'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { peer, tempDir, waitFor } from '../src/peers.js'

/** A memory block store that fails every write with ENOSPC while `full`. */
class FillableBlockstore extends MemoryBlockstore {
  full = false

  override put (key: CID, val: Uint8Array | AwaitIterable<Uint8Array>, options?: AbortOptions): ReturnType<MemoryBlockstore['put']> {
    if (this.full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    return super.put(key, val, options)
  }
}

describe('storage faults', () => {
  it('a write that cannot be stored fails whole, and writes work again once space returns', async () => {
    const store = new FillableBlockstore()
    const writer = await createDidbase({ directory: await tempDir(), blockstore: store, listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      const db = await writer.keyValue<string>('disk')
      await db.put('a', 'stored')
      const reader = await peer({ memory: true })
      await reader.dial(writer.multiaddrs[0] as string)
      const copy = await reader.keyValue<string>(db.address)
      await waitFor(async () => (await copy.get('a')) === 'stored', 'the reader to have the first write')
      const heads = await db.heads()

      store.full = true
      const failed = await db.put('b', 'no room').catch((err: unknown) => err)
      expect(failed).toMatchObject({ code: 'ENOSPC' })
      expect(await db.get('b')).toBeUndefined()
      expect(await db.heads()).toEqual(heads)
      expect(await db.size()).toBe(1)

      store.full = false
      await db.put('c', 'after the disk was freed')
      await waitFor(async () => (await copy.get('c')) === 'after the disk was freed', 'the reader to get the next write')
      expect(await copy.get('b')).toBeUndefined()
      expect(await copy.size()).toBe(2)
      expect(await copy.heads()).toEqual(await db.heads())
    } finally {
      await writer.close()
    }
  })

  it('a block damaged on disk is refused when read and not served to peers', async () => {
    const store = new MemoryBlockstore()
    const directory = await tempDir()
    let address: string
    let hash: string
    {
      const node = await createDidbase({ directory, blockstore: store })
      const db: KeyValueDatabase<string> = await node.keyValue<string>('rot')
      hash = await db.put('k', 'the original value')
      address = db.address
      await node.close()
    }
    // One flipped bit in the stored entry.
    const cid = CID.parse(hash, base58btc)
    let bytes: Uint8Array = new Uint8Array(0)
    for await (const chunk of store.get(cid)) bytes = chunk
    const damaged = Uint8Array.from(bytes)
    damaged[damaged.length - 5] = (damaged[damaged.length - 5] as number) ^ 0x01
    await store.put(cid, damaged)

    const node = await createDidbase({ directory, blockstore: store, listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      const db = await node.keyValue<string>(address)
      await expect(db.get('k')).rejects.toMatchObject({ name: 'CorruptBlockError' })

      const other = await peer({ memory: true })
      await other.dial(node.multiaddrs[0] as string)
      const copy = await other.keyValue<string>(address)
      // Asked for the block itself over bitswap, the node answers nothing: the ask times out.
      const asked = (async () => {
        for await (const _ of other.helia.blockstore.get(cid, { signal: AbortSignal.timeout(3_000) })) return 'served'
        return 'empty'
      })()
      await expect(asked).rejects.toThrow()
      expect(await other.helia.blockstore.has(cid)).toBe(false)
      expect(await copy.heads()).toEqual([])
      await expect(node.helia.blockstore.get(cid).next()).rejects.toMatchObject({ name: 'CorruptBlockError' })
    } finally {
      await node.close()
    }
  })
})
