/**
 * OrbitDB's default entry storage (a small LRU in front of Helia's blockstore), except
 * that entries which already arrived over gossipsub are read from memory rather than
 * fetched from peers (`JoinFetches.arrived`), and that block fetches can be stopped: all of
 * them when the database closes (OrbitDB waits for its update queue before it aborts its
 * own fetches, so a missing block would otherwise hold `close` for the full fetch timeout),
 * and those of one join when it stalls (stall-guard.ts).
 *
 * Stands in for `@orbitdb/core` 4.0.0 `src/oplog/oplog-store.js` 15 (the default entry
 * storage) and works around `src/database.js` 169-172 (`close` waits for the update queue
 * before fetches stop). Delete when OrbitDB stops its fetches on close and takes entries it
 * already received.
 */
import { ComposedStorage, type LogEntry, LRUStorage, type Storage } from '@orbitdb/core'
import type { Helia } from 'helia'
import { heliaBlockStorage } from './helia-blocks.js'
import { ownBytes } from '../upstream/gossipsub-frames.js'

const CACHED_ENTRIES = 1000
/** Entries held that arrived and passed the checks but are not joined yet; more push out the oldest. */
export const MAX_ARRIVED = 65_536
/** The same, in bytes. */
export const MAX_ARRIVED_BYTES = 64 * 1024 * 1024
/** Entries joins wait to arrive over gossip at once. */
const MAX_ARRIVALS = 4096

interface Held {
  bytes: Uint8Array
  /** The entries it links to (`next`): joining it joins them too. */
  next: string[]
}

/** The fetches in flight: how many arrived, and a way to stop those of a stalled join. */
export class JoinFetches {
  readonly #closing: AbortSignal
  #join = new AbortController()
  #signal: AbortSignal | undefined
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
  readonly #arrived = new Map<string, Held>()
  /** Joins waiting for an entry that may yet arrive over gossip. */
  readonly #arrivals = new Map<string, Array<(bytes: Uint8Array) => void>>()
  #arrivedBytes = 0
  /** How many held entries link to each hash. */
  readonly #linked = new Map<string, number>()
  /** Entries not joined on their own because a held entry links to them (`skip`). */
  readonly #skipped = new Map<string, LogEntry>()
  /** Skipped entries that no held entry links to any more: they must be joined alone. */
  #orphans: LogEntry[] = []
  /** Told when there are orphans to join (`takeOrphans`). */
  onOrphans: () => void = () => {}

  constructor (closing: AbortSignal) {
    this.#closing = closing
  }

  /** Hold a checked entry until a join adds it. */
  arrived (entry: { hash: string, next: string[] }, bytes: Uint8Array): void {
    if (this.#arrived.has(entry.hash)) return
    // A copy unless they are bytes of their own (the topic validator copies a message's):
    // a view into a whole received frame, which a peer can pad to megabytes, would keep it alive.
    const own = ownBytes(bytes)
    this.#arrived.set(entry.hash, { bytes: own, next: entry.next })
    const waiters = this.#arrivals.get(entry.hash)
    this.#arrivals.delete(entry.hash)
    for (const resolve of waiters ?? []) resolve(this.#arrived.get(entry.hash)?.bytes ?? bytes)
    this.#arrivedBytes += bytes.byteLength
    for (const hash of entry.next) this.#linked.set(hash, (this.#linked.get(hash) ?? 0) + 1)
    while (this.#arrived.size > MAX_ARRIVED || this.#arrivedBytes > MAX_ARRIVED_BYTES) {
      this.#release(this.#arrived.keys().next().value as string)
    }
  }

  /**
   * Resolves with the bytes of `hash` once it arrives over gossip and passes the checks
   * (never, if it does not). `cancel` lets the wait go once the caller has the bytes anyway.
   */
  arrival (hash: string): { bytes: Promise<Uint8Array>, cancel: () => void } {
    let waiter: ((bytes: Uint8Array) => void) | undefined
    const bytes = new Promise<Uint8Array>((resolve) => {
      waiter = resolve
      const waiters = this.#arrivals.get(hash) ?? []
      waiters.push(resolve)
      this.#arrivals.set(hash, waiters)
      // A bounded wait list: the oldest waiter is let go (its join's own fetch goes on).
      if (this.#arrivals.size > MAX_ARRIVALS) this.#arrivals.delete(this.#arrivals.keys().next().value as string)
    })
    const cancel = (): void => {
      const waiters = this.#arrivals.get(hash)
      if (waiters === undefined) return
      const left = waiters.filter((w) => w !== waiter)
      if (left.length === 0) this.#arrivals.delete(hash)
      else this.#arrivals.set(hash, left)
    }
    return { bytes, cancel }
  }

  /** Hashes some read is waiting to arrive (for tests of the bound). */
  get awaited (): number {
    return this.#arrivals.size
  }

  /** The bytes of an entry that arrived and is not joined yet. */
  waiting (hash: string): Uint8Array | undefined {
    return this.#arrived.get(hash)?.bytes
  }

  /**
   * Whether to leave `entry` to the join of a held entry that links to it, which walks to
   * it and adds both: a replica behind a busy stream of writes then joins many entries at
   * once, not one by one, each with its own reads and writes of the heads. A skipped entry
   * is remembered until a join adds it; if every held entry that linked to it goes without
   * being joined (refused, given up, or let go), it comes back from `takeOrphans`.
   */
  skip (entry: LogEntry): boolean {
    if (!this.#linked.has(entry.hash)) return false
    this.#skipped.set(entry.hash, entry)
    return true
  }

  /** A join added the entry to the log: it is read from the store from now on. */
  joined (hash: string): void {
    this.#skipped.delete(hash)
    // The same join adds what it links to (or they were in the log already).
    this.#release(hash, false)
  }

  /** A held entry will not be joined (refused, or given up): let it go. */
  drop (hash: string): void {
    this.#release(hash)
  }

  /** Skipped entries that nothing held links to any more, to be joined alone. */
  takeOrphans (): LogEntry[] {
    const orphans = this.#orphans
    this.#orphans = []
    return orphans
  }

  /** Let a held entry go; with `orphan`, entries left to its join that nothing else holds come back. */
  #release (hash: string, orphan = true): void {
    const held = this.#arrived.get(hash)
    if (held === undefined) return
    this.#arrived.delete(hash)
    this.#arrivedBytes -= held.bytes.byteLength
    let orphaned = false
    for (const next of held.next) {
      const count = (this.#linked.get(next) ?? 0) - 1
      if (count > 0) {
        this.#linked.set(next, count)
        continue
      }
      this.#linked.delete(next)
      const skipped = this.#skipped.get(next)
      if (orphan && skipped !== undefined) {
        this.#skipped.delete(next)
        this.#orphans.push(skipped)
        orphaned = true
      }
    }
    if (orphaned) this.onOrphans()
  }

  /**
   * One signal per join, made once: `AbortSignal.any` on every read of a busy join (thousands,
   * with many heads) piled up listeners on the long-lived parents, and Node's clean-up of them
   * took most of a join's time (nodejs/node#55351).
   */
  get signal (): AbortSignal {
    this.#signal ??= AbortSignal.any([this.#closing, this.#join.signal])
    return this.#signal
  }

  /** Stop the fetches in flight (those of a stalled join); later reads and fetches go ahead. */
  stop (): void {
    this.#join.abort(new DOMException('the join brought nothing for too long', 'TimeoutError'))
    this.#join = new AbortController()
    this.#signal = undefined
  }
}

export async function closableEntryStorage (helia: Helia, fetches: JoinFetches): Promise<Storage> {
  // Not pinned in Helia (helia-blocks.ts, docs/troubleshooting.md).
  const blocks = heliaBlockStorage(helia)
  const stoppable: Storage = {
    ...blocks,
    get: async (hash) => {
      const waiting = fetches.waiting(hash)
      // Stored before the join goes on, as a fetched block would be: the heads OrbitDB
      // writes next may reach it, and they must reach only stored entries. Still held
      // until the join adds it: a failed join must not make it forget the entry.
      if (waiting !== undefined) await blocks.put(hash, waiting)
      // An entry gossip delivers while the join already asks peers for it (entries of one
      // writer can arrive out of order) is taken as it arrives, not when the fetch gives up.
      let bytes = waiting
      if (bytes === undefined) {
        const arrival = fetches.arrival(hash)
        try {
          bytes = await Promise.race([blocks.get(hash, fetches.signal), arrival.bytes])
        } finally {
          arrival.cancel()
        }
      }
      if (bytes !== undefined && waiting === undefined && fetches.waiting(hash) !== undefined) await blocks.put(hash, bytes)
      fetches.fetched++
      return bytes
    },
    persist: async (hash) => {
      await blocks.persist?.(hash)
      fetches.added++
      fetches.joined(hash)
    }
  }
  return ComposedStorage(await LRUStorage({ size: CACHED_ENTRIES }), stoppable)
}
