/** Addresses and manifests: names, addresses and hostile manifests, against an in-memory block store. */
import type { BlockstoreLike } from '@didbase/access/internal'
import * as dagCbor from '@ipld/dag-cbor'
import { MemoryBlockstore } from 'blockstore-core'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { addressOf, parseAddress, readManifest } from '../src/databases/manifest.js'

async function store (blockstore: MemoryBlockstore, value: unknown): Promise<CID> {
  const bytes = dagCbor.encode(value)
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  await blockstore.put(cid, bytes)
  return cid
}

const soon = (): AbortSignal => AbortSignal.timeout(1_000)

describe('parseAddress', () => {
  it('tells names from addresses, and refuses what tries to be an address and is not', async () => {
    expect(parseAddress('todos')).toBeUndefined()
    const cid = await store(new MemoryBlockstore(), { name: 'x' })
    expect(parseAddress(addressOf(cid))?.equals(cid)).toBe(true)
    for (const bad of ['', '/todos', '/orbitdb/not-a-cid']) {
      expect(() => parseAddress(bad)).toThrow(expect.objectContaining({ name: 'InvalidAddressError' }))
    }
  })
})

describe('readManifest', () => {
  const blockstore = new MemoryBlockstore()
  const bs = blockstore as unknown as BlockstoreLike

  it('reads a didbase manifest', async () => {
    const manifest = { name: 'todos', type: 'keyvalue', accessController: '/didbase-writers/zdpuPolicy', meta: { didbase: 1 } }
    expect(await readManifest(bs, await store(blockstore, manifest), soon())).toEqual(manifest)
  })

  it('refuses manifests didbase cannot open, each with UnsupportedDatabaseError', async () => {
    for (const value of [
      'not a map',
      { name: 'x', type: 'keyvalue' },
      { name: 'x', type: 'keyvalue', accessController: '/ipfs/zdpuOther', meta: { didbase: 1 } },
      { name: 'x', type: 'keyvalue', accessController: '/didbase-writers/zdpu', meta: {} },
      { name: 'x', type: 'table', accessController: '/didbase-writers/zdpu', meta: { didbase: 1 } }
    ]) {
      await expect(readManifest(bs, await store(blockstore, value), soon())).rejects.toMatchObject({ name: 'UnsupportedDatabaseError' })
    }
  })

  it('says UnknownDatabaseError when no one has the manifest in time', async () => {
    const missing = CID.createV1(dagCbor.code, await sha256.digest(new Uint8Array([9])))
    const empty = { get: async (_cid: CID, options?: { signal?: AbortSignal }) => new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal?.reason))) }
    await expect(readManifest(empty as unknown as BlockstoreLike, missing, AbortSignal.timeout(50))).rejects.toMatchObject({ name: 'UnknownDatabaseError' })
  })
})
