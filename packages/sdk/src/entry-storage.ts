/**
 * OrbitDB's default entry storage (a small LRU in front of Helia's blockstore), except
 * that entries which already arrived over gossipsub are read from memory rather than
 * fetched from peers (`JoinFetches.arrived`), and that block fetches can be stopped: all of them when the database closes (OrbitDB
 * waits for its update queue before it aborts its own fetches, so a missing block would
 * otherwise hold `close` for the full fetch timeout), and those of one join when it stalls
 * (stall-guard.ts).
 */
import { ComposedStorage, IPFSBlockStorage, LRUStorage, type Storage } from '@orbitdb/core'
import type { Helia } from 'helia'

const CACHED_ENTRIES = 1000
/** Entries held that arrived and passed the checks but are not joined yet; more push out the oldest. */
export const MAX_ARRIVED = 4096

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

  /**
   * Entries that arrived over gossipsub and passed the checks, waiting in OrbitDB's queue.
   * A join that reaches one (the entry of another writer, still queued behind the one being
   * joined) reads it from here: otherwise OrbitDB asks every connected peer for it over
   * bitswap, and under load that was most of a replica's work.
   */
  readonly #arrived = new Map<string, Uint8Array>()

  constructor (closing: AbortSignal) {
    this.#closing = closing
  }

  /** Hold a checked entry's bytes until OrbitDB stores it. */
  arrived (hash: string, bytes: Uint8Array): void {
    this.#arrived.set(hash, bytes)
    if (this.#arrived.size > MAX_ARRIVED) this.#arrived.delete(this.#arrived.keys().next().value as string)
  }

  /** The bytes of an entry that arrived and is not stored yet. */
  waiting (hash: string): Uint8Array | undefined {
    return this.#arrived.get(hash)
  }

  /** OrbitDB stored the entry: its bytes are read from the store from now on. */
  stored (hash: string): void {
    this.#arrived.delete(hash)
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
      const waiting = fetches.waiting(hash)
      // Stored before the join goes on, as a fetched block would be: the heads OrbitDB
      // writes next may reach it, and they must reach only stored entries.
      if (waiting !== undefined) await stoppable.put(hash, waiting)
      const bytes = waiting ?? await blocks.get(hash, fetches.signal)
      fetches.fetched++
      return bytes
    },
    put: async (hash, bytes) => {
      await blocks.put(hash, bytes)
      fetches.stored(hash)
    },
    persist: async (hash) => {
      await blocks.persist?.(hash)
      fetches.added++
    }
  }
  return ComposedStorage(await LRUStorage({ size: CACHED_ENTRIES }), stoppable)
}
