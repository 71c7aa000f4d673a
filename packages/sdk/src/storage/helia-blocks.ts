/**
 * OrbitDB's storage of entry blocks, over Helia's blockstore. OrbitDB's own
 * (`IPFSBlockStorage`) makes an `AbortSignal.timeout` of 30 s for every read and write, which
 * lives its full 30 s after the call: thousands of live timers under a stream of entries.
 * Here a read that must ask peers has a deadline cleared when it ends, a write has none
 * (it is local), and nothing is pinned (pinning costs several awaited datastore writes per
 * entry and protects blocks only from `helia.gc()`, which didbase never runs).
 *
 * Stands in for `@orbitdb/core` 4.0.0 `src/storage/ipfs-block.js`. Delete when it clears its
 * timeouts.
 */
import { withDeadline } from '@didbase/access/internal'
import type { Storage } from '@orbitdb/core'
import type { Helia } from 'helia'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { concat } from 'uint8arrays/concat'

/** Longest a read of a block no peer sends may wait, as OrbitDB's. */
const READ_MS = 30_000

export function heliaBlockStorage (helia: Pick<Helia, 'blockstore'>): Storage {
  const closing = new AbortController()
  return {
    put: async (hash, data) => {
      await helia.blockstore.put(CID.parse(hash, base58btc), data, { signal: closing.signal })
    },
    get: async (hash, signal?: AbortSignal) => {
      const cid = CID.parse(hash, base58btc)
      // A join's signal already aborts when the database closes (entry-storage.ts); one
      // `AbortSignal.any` per read on a long-lived signal would pile up its dependants.
      return withDeadline(READ_MS, signal ?? closing.signal, async (s) => {
        const chunks: Uint8Array[] = []
        for await (const chunk of helia.blockstore.get(cid, { signal: s })) chunks.push(chunk)
        return chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0] : concat(chunks)
      })
    },
    del: async () => {},
    persist: async () => {},
    iterator: async function * () {},
    merge: async () => {},
    clear: async () => {},
    close: async () => { closing.abort() }
  }
}
