/**
 * OrbitDB's default entry storage (a small LRU in front of Helia's blockstore, pinned),
 * except that block fetches stop when the database closes. OrbitDB waits for its update
 * queue before it aborts its own fetches, so a missing block would otherwise hold `close`
 * for the full fetch timeout.
 */
import { ComposedStorage, IPFSBlockStorage, LRUStorage, type Storage } from '@orbitdb/core'
import type { Helia } from 'helia'

const CACHED_ENTRIES = 1000

export async function closableEntryStorage (helia: Helia, closing: AbortSignal): Promise<Storage> {
  const blocks = await IPFSBlockStorage({ ipfs: helia, pin: true })
  const stoppable: Storage = { ...blocks, get: async (hash) => blocks.get(hash, closing) }
  return ComposedStorage(await LRUStorage({ size: CACHED_ENTRIES }), stoppable)
}
