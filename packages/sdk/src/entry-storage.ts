/**
 * OrbitDB's default entry storage (a small LRU in front of Helia's blockstore),
 * except that block fetches can be stopped: all of them when the database closes (OrbitDB
 * waits for its update queue before it aborts its own fetches, so a missing block would
 * otherwise hold `close` for the full fetch timeout), and those of one join when it stalls
 * (stall-guard.ts).
 */
import { ComposedStorage, IPFSBlockStorage, LRUStorage, type Storage } from '@orbitdb/core'
import type { Helia } from 'helia'

const CACHED_ENTRIES = 1000

/** The fetches in flight: how many arrived, and a way to stop those of a stalled join. */
export class JoinFetches {
  readonly #closing: AbortSignal
  #join = new AbortController()
  /** Entries read from the block store (a peer, or the disk) since the database opened. */
  fetched = 0
  /**
   * Entries a join has added since the database opened. Its last step goes over every entry
   * it adds (OrbitDB's `persist`), one by one and with nothing fetched: a join of thousands
   * is busy, not stalled.
   */
  added = 0

  constructor (closing: AbortSignal) {
    this.#closing = closing
  }

  get signal (): AbortSignal {
    return AbortSignal.any([this.#closing, this.#join.signal])
  }

  /** Stop the fetches in flight (those of a stalled join); later reads and fetches go ahead. */
  stop (): void {
    this.#join.abort(new Error('the join brought nothing for too long'))
    this.#join = new AbortController()
  }
}

export async function closableEntryStorage (helia: Helia, fetches: JoinFetches): Promise<Storage> {
  // Not pinned in Helia: pinning costs several awaited datastore writes for every entry,
  // and protects blocks only from helia.gc(), which didbase never runs (docs/troubleshooting.md).
  const blocks = await IPFSBlockStorage({ ipfs: helia, pin: false })
  const stoppable: Storage = {
    ...blocks,
    get: async (hash) => {
      const bytes = await blocks.get(hash, fetches.signal)
      fetches.fetched++
      return bytes
    },
    persist: async (hash) => {
      await blocks.persist?.(hash)
      fetches.added++
    }
  }
  return ComposedStorage(await LRUStorage({ size: CACHED_ENTRIES }), stoppable)
}
