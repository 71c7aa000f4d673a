/**
 * OrbitDB's log index: which entries a log holds and has verified (`log.has`). OrbitDB keeps
 * it in LevelDB behind a small cache, and asks it several times for every entry it joins,
 * mostly about entries it does not hold yet, which no cache answers: each question is a
 * LevelDB read, awaited one after another, and they dominate the time a replica takes to
 * apply live writes.
 *
 * This index holds every hash in memory (a few dozen bytes each), read from LevelDB once
 * when the database opens, and writes new ones to LevelDB behind: in batches, and all of
 * them before the database closes. Markers lost in a crash are restored on the next open
 * from what the heads reach (`markReachable`).
 *
 * OrbitDB wants its storages before it knows the database's address, so this one is
 * created unbound and given its LevelDB once the address is known (`bind`); OrbitDB asks
 * nothing of it while it opens.
 *
 * Stands in for `@orbitdb/core` 4.0.0 `src/oplog/oplog-store.js` 17 and 35 (the default index
 * storage behind `log.has`). Delete when OrbitDB's index answers from memory.
 */
import { LevelStorage, type Storage } from '@orbitdb/core'
import { debugLog } from '../log.js'
import { storeExists } from '../node/platform.js'
import { type LinkedEntry, walkPast } from './causal-past.js'

const log = debugLog('log-index')

/** New markers are written at most this long after they were added. */
const FLUSH_MS = 100

/** The markers, for a repair that runs before anyone else may read them (`repairWith`). */
export interface Marks {
  get: (hash: string) => Promise<Uint8Array | undefined>
  put: (hash: string, data: unknown) => Promise<void>
}

export class LogIndex implements Storage {
  readonly #hashes = new Set<string>()
  readonly #pending = new Set<string>()
  #backend: Storage | undefined
  /** The LevelDB is open. */
  readonly #opened: Promise<Storage>
  /** Every marker is read, and repairs (`repairWith`) are done: only then are questions answered. */
  #ready: Promise<void>
  #bound!: (backend: Storage) => void
  #failed!: (err: unknown) => void
  #binding: Promise<void> | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor () {
    this.#opened = new Promise<Storage>((resolve, reject) => {
      this.#bound = resolve
      this.#failed = reject
    })
    this.#ready = this.#opened.then(async (backend) => {
      this.#backend = backend
      for await (const [hash] of backend.iterator()) this.#hashes.add(hash)
    })
    // Nothing may wait on an index that never gets bound; callers see the failure of `bind`.
    this.#ready.catch(() => {})
  }

  /**
   * Keep the index in the LevelDB at `path` (OrbitDB's own place for it). Resolves once it
   * is open: its markers are read behind, and questions wait for them. If it cannot be
   * opened, every use of the index fails with the same error, rather than waiting.
   */
  async bind (path: string): Promise<void> {
    this.#binding ??= (async () => {
      try {
        this.#bound(await LevelStorage({ path }))
      } catch (err) {
        this.#failed(err)
      }
      await this.#opened
    })()
    return this.#binding
  }

  /**
   * Run `repair` on the markers once they are read, before any question is answered: a
   * database opens without waiting for the markers of a large log.
   */
  repairWith (repair: (marks: Marks) => Promise<void>): void {
    const marks: Marks = {
      get: async (hash) => this.#hashes.has(hash) ? MARKER : undefined,
      put: async (hash) => { this.#mark(hash) }
    }
    this.#ready = this.#ready.then(async () => repair(marks))
    this.#ready.catch(() => {})
  }

  async get (hash: string): Promise<Uint8Array | undefined> {
    await this.#ready
    // OrbitDB only asks whether a value is there.
    return this.#hashes.has(hash) ? MARKER : undefined
  }

  async put (hash: string, _data: unknown): Promise<void> {
    await this.#ready
    this.#mark(hash)
  }

  #mark (hash: string): void {
    if (this.#hashes.has(hash)) return
    this.#hashes.add(hash)
    this.#pending.add(hash)
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => { void this.#flush() }, FLUSH_MS)
      // A number in browsers, where there is no process to keep alive.
      this.#timer.unref?.()
    }
  }

  async del (hash: string): Promise<void> {
    await this.#ready
    this.#hashes.delete(hash)
    this.#pending.delete(hash)
    await this.#backend?.del(hash)
  }

  async * iterator (): AsyncGenerator<[string, Uint8Array]> {
    await this.#ready
    for (const hash of this.#hashes) yield [hash, MARKER]
  }

  async merge (other: Storage): Promise<void> {
    for await (const [hash] of other.iterator()) await this.put(hash, MARKER)
  }

  async clear (): Promise<void> {
    await this.#ready
    this.#hashes.clear()
    this.#pending.clear()
    await this.#backend?.clear()
  }

  async close (): Promise<void> {
    // A bind under way finishes first, so its LevelDB is closed too; so does the reading of its markers.
    await this.#binding?.catch(() => {})
    await this.#ready.catch(() => {})
    if (this.#backend === undefined) return
    await this.#flush()
    await this.#backend.close()
  }

  /** Write the pending markers; flushes run one after another. */
  async #flush (): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const backend = this.#backend
    const batch = [...this.#pending]
    this.#pending.clear()
    this.#flushing = this.#flushing.then(async () => {
      if (backend !== undefined && batch.length > 0) await Promise.all(batch.map(async (hash) => backend.put(hash, MARKER)))
    }).catch((err) => {
      // A marker that could not be written (a full disk) only means the entry is verified
      // again the next time it comes.
      log.error('could not write %d log index markers: %e', batch.length, err)
    })
    await this.#flushing
  }
}

/** What OrbitDB stores for each indexed entry (it reads only that there is something). */
const MARKER = new Uint8Array([1])

/**
 * After a crash, heads can name entries whose markers were not written yet (OrbitDB writes
 * a head before the markers of what it joined, and this index writes markers behind).
 * Unmarked, OrbitDB would take such a head for a stranger, and keep it as a head beside
 * the entries that follow it. Everything a head reaches was verified before the head was
 * written, so mark it, walking down from the heads to what is marked already. Only blocks
 * stored here are read; a clean close leaves nothing to walk.
 */
export async function markReachable<E extends LinkedEntry> (index: Marks, heads: E[], load: (hash: string) => Promise<E | undefined>): Promise<void> {
  await walkPast(heads, {
    done: async (hash) => await index.get(hash) !== undefined,
    load,
    visit: async (entry) => index.put(entry.hash, MARKER)
  })
}

/** How many entries the log index at `path` marks (a closed database's size); 0 when there is none. */
export async function countMarkers (path: string): Promise<number> {
  if (!(await storeExists(path))) return 0
  const store = await LevelStorage({ path })
  try {
    let n = 0
    for await (const _ of store.iterator()) n++
    return n
  } finally {
    await store.close()
  }
}
