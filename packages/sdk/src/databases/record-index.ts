/**
 * The live record of each key, for key-value and document databases, that every replica
 * computes alike.
 *
 * OrbitDB's own index (`KeyValueIndexed`) stops at entries it has indexed before, so an
 * older write that arrives in a merge overwrites a newer one, and replicas that saw the
 * same entries in another order read different values for good. Here each key's record
 * is the greatest of all its entries in one total order (Lamport time, then clock id,
 * then entry hash), whatever order they arrived in; an entry is indexed once, with every
 * entry it reaches.
 *
 * Stands in for `@orbitdb/core` 4.0.0 `src/databases/keyvalue-indexed.js` 33-71 (the index
 * stops at entries it indexed before). Not a workaround to delete: the order every replica
 * reads is didbase's own rule.
 */
import { dataPayloadsOf } from '@didbase/access/internal'
import type { LogEntry } from '@orbitdb/core'
import { walkPast } from '../storage/causal-past.js'
import type { SnapshotStore } from '../storage/index-snapshot.js'
import { InvariantError } from '../errors.js'
import { debugLog } from '../log.js'

const log = debugLog('record-index')

/** The entry that decides a key: a PUT (the record) or a DEL (no record). */
export interface Winner {
  key: string
  hash: string
  /** Which operation of the entry: 0 unless it was written in a batch (missing in snapshots of older versions). */
  index?: number
  writer: string
  time: number
  id: string
  deleted: boolean
}

interface ClockedEntry { hash: string, clock: { time: number, id: string } }

/** Total order on entries: positive when `a` is the later write. */
export function compareEntries (a: ClockedEntry, b: ClockedEntry): number {
  if (a.clock.time !== b.clock.time) return a.clock.time - b.clock.time
  if (a.clock.id !== b.clock.id) return a.clock.id < b.clock.id ? -1 : 1
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0
}

/**
 * Entries in OrbitDB's log order, latest first, except that runs of entries with equal
 * clocks (one DID writing on two devices at once) are sorted by hash: OrbitDB leaves
 * their order to arrival, so replicas would read the same log in different orders.
 * Such runs are contiguous, since OrbitDB emits entries by clock.
 */
export async function * inClockOrder (entries: AsyncIterable<LogEntry>): AsyncGenerator<LogEntry> {
  let run: LogEntry[] = []
  const sameClock = (a: LogEntry, b: LogEntry): boolean => {
    const [x, y] = [(a as unknown as ClockedEntry).clock, (b as unknown as ClockedEntry).clock]
    return x.time === y.time && x.id === y.id
  }
  const flush = (): LogEntry[] => run.sort((a, b) => -compareEntries(a as unknown as ClockedEntry, b as unknown as ClockedEntry))
  for await (const entry of entries) {
    if (run.length > 0 && !sameClock(run[0] as LogEntry, entry)) {
      yield * flush()
      run = []
    }
    run.push(entry)
  }
  yield * flush()
}

/** Whether operation `index` of `entry` is a later write than `winner`: a batch's operations follow each other. */
function later (entry: LogEntry, index: number, winner: Winner): boolean {
  const order = compareEntries(entry as ClockedEntry, { hash: winner.hash, clock: { time: winner.time, id: winner.id } })
  return order > 0 || (order === 0 && index > (winner.index ?? 0))
}

/** A record an entry writes: its key, whether it deletes it, and which operation of the entry does. */
export interface RecordWrite { key: string, deleted: boolean, index: number }

/** Which keys a key-value or document entry writes (both name it `key`), in order; access operations write none. */
export function recordWritesOf (entry: LogEntry): RecordWrite[] {
  const writes: RecordWrite[] = []
  for (const [index, { op, key }] of dataPayloadsOf(entry.payload).entries()) {
    if (typeof key === 'string' && (op === 'PUT' || op === 'DEL')) writes.push({ key, deleted: op === 'DEL', index })
  }
  return writes
}

function sameHashes (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join()
}

/** The snapshot's format; another version is ignored (the index is then rebuilt). */
const SNAPSHOT_VERSION = 1

interface Snapshot {
  v: number
  /** The log's heads when it was taken, all indexed: it is used only if the log has them. */
  heads: string[]
  indexed: string[]
  winners: Winner[]
}

export class RecordIndex {
  readonly #winners = new Map<string, Winner>()
  readonly #indexed = new Set<string>()
  readonly #load: (hash: string) => Promise<LogEntry | undefined>
  readonly #writesOf: (entry: LogEntry) => RecordWrite[]
  readonly #snapshots: SnapshotStore | undefined
  readonly #has: (hash: string) => Promise<boolean>
  #work: Promise<void> = Promise.resolve()

  readonly #heads: () => Promise<LogEntry[]>
  readonly #changed: Set<(key: string, before: Winner | undefined, after: Winner) => void> = new Set()

  /**
   * `load` reads an entry this replica has and `heads` its log's heads; `writesOf` says which
   * keys an entry writes, in order, and whether it deletes them (none for entries that write
   * no record, like access operations). A log opened from disk starts from the snapshot kept
   * in `snapshots` (see `save`), and indexes the rest on the first read; `has` says whether
   * an entry is stored here.
   */
  constructor (load: (hash: string) => Promise<LogEntry | undefined>, heads: () => Promise<LogEntry[]>, writesOf: (entry: LogEntry) => RecordWrite[], snapshots?: { store: SnapshotStore, has: (hash: string) => Promise<boolean> }) {
    this.#load = load
    this.#heads = heads
    this.#writesOf = writesOf
    this.#snapshots = snapshots?.store
    this.#has = snapshots?.has ?? (async () => false)
  }

  /** Keys whose deciding entry changed since the key records were saved (or restored). */
  readonly #dirty = new Set<string>()
  /** Whether the saved key records match the restored snapshot, so that only changed keys need saving. */
  #recordsSaved = false
  #settled = false
  #settling: Promise<void> | undefined

  /**
   * Start building the index (from the snapshot, then what the heads reach), once: at the
   * first read that needs it, or right after a first read the key records answered, so
   * that parsing the snapshot does not hold that first read up.
   */
  async #build (): Promise<void> {
    if (this.#settling === undefined) {
      const store = this.#snapshots
      if (store !== undefined) this.#then(async () => this.#restore(store))
      this.#settling = this.#caughtUp().then(() => { this.#settled = true }, () => {})
    }
    return this.#settling
  }

  /**
   * Keep what is indexed now, for the next open. A snapshot taken at any moment is a sound
   * start: every entry it names was considered, with everything it reaches, and the log
   * only grows.
   */
  async save (): Promise<void> {
    // An index never built has nothing new to keep: what is saved is still sound.
    if (this.#settling === undefined || this.#snapshots === undefined) return
    await this.#work
    const heads = (await this.#heads()).map((h) => h.hash).filter((h) => this.#indexed.has(h))
    const snapshot: Snapshot = { v: SNAPSHOT_VERSION, heads, indexed: [...this.#indexed], winners: [...this.#winners.values()] }
    const changed = this.#recordsSaved ? [...this.#dirty] : [...this.#winners.keys()]
    this.#dirty.clear()
    const encoder = new TextEncoder()
    const records = changed.map((key): [string, Uint8Array] => [key, encoder.encode(JSON.stringify(this.#winners.get(key)))])
    try {
      await this.#snapshots.save(encoder.encode(JSON.stringify(snapshot)), heads, records)
      this.#recordsSaved = true
    } catch (err) {
      for (const key of changed) this.#dirty.add(key)
      throw err
    }
  }

  async #restore (snapshots: SnapshotStore): Promise<void> {
    const bytes = await snapshots.load()
    if (bytes === undefined) return
    let snapshot: Partial<Snapshot>
    try {
      snapshot = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Snapshot>
    } catch {
      return
    }
    if (snapshot.v !== SNAPSHOT_VERSION || !Array.isArray(snapshot.heads) || !Array.isArray(snapshot.indexed) || !Array.isArray(snapshot.winners)) return
    // A log that lost entries the snapshot names (its files restored from an older copy, a
    // power cut) is indexed from scratch instead.
    for (const hash of snapshot.heads) if (typeof hash !== 'string' || !(await this.#has(hash))) return
    for (const hash of snapshot.indexed) this.#indexed.add(hash)
    for (const winner of snapshot.winners) this.#winners.set(winner.key, winner)
    // Key records saved with this snapshot need only what changes from here (a version
    // before them left none).
    const saved = await snapshots.lookupHeads()
    this.#recordsSaved = saved !== undefined && sameHashes(saved, snapshot.heads as string[])
  }

  /** Index `head` and everything it reaches that is not indexed yet. Reads wait for it. */
  add (head: LogEntry): void {
    void this.#build()
    this.#then(async () => this.#addReachable(head))
  }


  #then (task: () => Promise<void>): void {
    // Reads only fail once the database is closing; nothing is read after that.
    this.#work = this.#work.then(task).catch((err) => { log('indexing stopped: %e', err) })
  }

  /**
   * Entries count as indexed only once the walk that found them completed: a walk cut
   * short (a read that failed while the database closed) leaves them to the next walk, so
   * the indexed set always holds everything its entries reach, and a snapshot of it is a
   * sound start. Considering an entry twice changes nothing.
   */
  async #addReachable (head: LogEntry): Promise<void> {
    const walked = await walkPast([head], {
      done: (hash) => this.#indexed.has(hash),
      // Joined entries are stored before OrbitDB reports them, so this is a local read.
      load: async (hash) => {
        const linked = await this.#load(hash)
        if (linked === undefined) throw new InvariantError(`entry ${hash} is not stored here`)
        return linked
      },
      visit: (entry) => { this.#consider(entry) }
    })
    for (const hash of walked) this.#indexed.add(hash)
  }

  #consider (entry: LogEntry): void {
    const clock = (entry as unknown as ClockedEntry).clock
    for (const { key, deleted, index } of this.#writesOf(entry)) {
      const current = this.#winners.get(key)
      if (current !== undefined && !later(entry, index, current)) continue
      this.#dirty.add(key)
      const winner: Winner = { key, hash: entry.hash, ...(index > 0 ? { index } : {}), writer: entry.identity, time: clock.time, id: clock.id, deleted }
      this.#winners.set(key, winner)
      for (const listener of this.#changed) listener(key, current, winner)
    }
  }

  /**
   * Call `listener` each time a key gets another deciding entry (not for keys restored from
   * a snapshot). Returns the function that stops it.
   */
  onChange (listener: (key: string, before: Winner | undefined, after: Winner) => void): () => void {
    this.#changed.add(listener)
    return () => { this.#changed.delete(listener) }
  }

  /** The entry that decides `key` as indexed so far, without waiting for the index to catch up. */
  current (key: string): Winner | undefined {
    return this.#winners.get(key)
  }

  /** Resolves once everything the log's heads reach is indexed (what `heads()` shows, a read sees). */
  async caughtUp (): Promise<void> {
    await this.#build()
    await this.#caughtUp()
  }

  /** Every key's deciding entry, deleted ones too, caught up with the log's heads. */
  async all (): Promise<Winner[]> {
    await this.#build()
    await this.#caughtUp()
    return [...this.#winners.values()]
  }

  /**
   * Index whatever `heads` reach that is not indexed yet, and wait for all indexing. OrbitDB
   * moves a log's heads a moment before it reports the entry, so reads first catch up with
   * the heads: what `heads()` shows, `get` returns.
   */
  async #caughtUp (): Promise<void> {
    const heads = await this.#heads()
    if (heads.some((h) => !this.#indexed.has(h.hash))) for (const head of heads) this.add(head)
    await this.#work
  }

  /** The entry that decides `key` (a DEL when the key was deleted). */
  async winner (key: string): Promise<Winner | undefined> {
    if (!this.#settled) {
      const store = this.#snapshots
      const known = this.#settling === undefined && store !== undefined ? await this.#lookup(store, key) : 'unknown'
      if (known !== 'unknown') {
        setTimeout(() => { void this.#build() }, 0)
        return known
      }
      await this.#build()
    }
    await this.#caughtUp()
    return this.#winners.get(key)
  }

  /**
   * The entry that decides `key` as the snapshot's key records say, when they were saved
   * at exactly this log's heads (then they are the index); `'unknown'` otherwise.
   */
  async #lookup (store: SnapshotStore, key: string): Promise<Winner | undefined | 'unknown'> {
    const [saved, heads] = await Promise.all([store.lookupHeads(), this.#heads()])
    if (saved === undefined || !sameHashes(saved, heads.map((h) => h.hash))) return 'unknown'
    const bytes = await store.lookup(key)
    if (bytes === undefined) return undefined
    try {
      const winner = JSON.parse(new TextDecoder().decode(bytes)) as Winner
      return winner.key === key && typeof winner.hash === 'string' ? winner : 'unknown'
    } catch {
      return 'unknown'
    }
  }

  /** Every live record's deciding entry, latest write first. */
  async live (): Promise<Winner[]> {
    await this.#build()
    await this.#caughtUp()
    return [...this.#winners.values()]
      .filter((w) => !w.deleted)
      .sort((a, b) => -(compareEntries({ hash: a.hash, clock: a }, { hash: b.hash, clock: b }) || (a.index ?? 0) - (b.index ?? 0)))
  }
}
