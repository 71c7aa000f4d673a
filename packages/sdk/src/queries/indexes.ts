/**
 * Secondary indexes a replica declares when it opens a database: for each, one row per live
 * record, keyed by the record's values of the index's fields and then its key, in the byte
 * order of order.ts. Kept in a `level` store (LevelDB in Node, IndexedDB in browsers), so a
 * range of rows is read in order and a page of 20 costs 20 rows, whatever the database's size.
 *
 * Rows follow the record index (record-index.ts) and nothing else: a key's row is what its
 * deciding entry holds, so replicas with the same entries hold the same rows. A key whose
 * deciding entry changed is marked, and its rows are rewritten in one atomic batch with a
 * note of the entry they reflect. After a crash the rows of such keys may lag: a clean close
 * leaves a mark with the log's heads, and an open without it (or at other heads) compares
 * every key's note with the record index and rewrites those that differ (`rebuild`), which
 * also builds a new index for an existing database.
 */
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import * as dagCbor from '@ipld/dag-cbor'
import { base64url } from 'multiformats/bases/base64'
import { InvariantError } from '../errors.js'
import { debugLog } from '../log.js'
import { compareBytes, decodeTuple, encodeTuple } from './order.js'
import { fieldOf, type QueryRecord } from './query.js'

const log = debugLog('indexes')

/** Where the rows live: a `level` database (or sublevel) of byte keys and byte values. */
export type IndexLevel = AbstractLevel<any, Uint8Array, Uint8Array>
type Sub = AbstractSublevel<any, any, Uint8Array, Uint8Array>

/** What a row points at: operation `index` of the entry `hash`, which writes the record of `key` (as the record index keys it). */
export interface RowRef { hash: string, index: number, key?: string }

/** A key's deciding entry as the record index holds it (its key blinded in a private database). */
export interface Decider { key: string, hash: string, index?: number, deleted: boolean }

/** What the indexes read from their database. */
export interface IndexSource {
  /** Every key's deciding entry, the record index caught up with the log's heads. */
  deciders: () => Promise<Decider[]>
  /** Resolves once the record index is caught up with the log's heads (and has told of every change). */
  caughtUp: () => Promise<void>
  /** A key's deciding entry now (no waiting). */
  decider: (key: string) => Decider | undefined
  /** The record a deciding entry holds; undefined when this replica cannot read it. */
  record: (decider: Decider) => Promise<QueryRecord<unknown> | undefined>
  /** The log's heads, sorted. */
  heads: () => Promise<string[]>
}

/** Building an index reports `done` of the `total` keys whose rows it writes. */
export interface IndexProgress {
  /** The index's fields. */
  fields: readonly string[]
  done: number
  total: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))
const parse = <T>(bytes: Uint8Array): T => JSON.parse(decoder.decode(bytes)) as T

/** Keys a flush rewrites per batch. */
const BATCH_KEYS = 256

/** One index: its rows, and each key's note of the row it has and the entry it reflects. */
export class SecondaryIndex {
  readonly fields: readonly string[]
  /** A name safe for a store: a digest of the fields. */
  readonly id: string
  readonly rows: Sub
  readonly notes: Sub

  constructor (level: IndexLevel, fields: readonly string[]) {
    this.fields = fields
    this.id = bytesToHex(sha256(encoder.encode(JSON.stringify(fields)))).slice(0, 16)
    const opts = { keyEncoding: 'view', valueEncoding: 'view' } as const
    this.rows = level.sublevel<Uint8Array, Uint8Array>(`r${this.id}`, opts) as unknown as Sub
    this.notes = level.sublevel<Uint8Array, Uint8Array>(`n${this.id}`, opts) as unknown as Sub
  }

  /** The row key of `record`: its fields' values, then its key. */
  rowKey (record: QueryRecord<unknown>): Uint8Array {
    return encodeTuple([...this.fields.map((f) => fieldOf(record, f)), record.key])
  }

  /** Read rows between the bounds, in order (or reversed): the record key and the entry of each. */
  async * range (bounds: RowBounds, reverse: boolean, signal?: AbortSignal, first = 64): AsyncGenerator<{ key: string, row: Uint8Array, ref: RowRef }> {
    const it = this.rows.iterator({ ...bounds, reverse })
    // Rows a few dozen at a time (`first` at first: a page's worth), not one call each.
    let size = first
    try {
      for (;;) {
        signal?.throwIfAborted()
        const rows = await it.nextv(size) as Array<[Uint8Array, Uint8Array]>
        if (rows.length === 0) return
        size = 64
        for (const [row, ref] of rows) yield { key: decodeTuple(row).at(-1) as string, row, ref: parse<RowRef>(ref) }
      }
    } finally {
      await it.close()
    }
  }

  /** How many rows lie between the bounds (no values read). */
  async count (bounds: RowBounds): Promise<number> {
    const it = this.rows.keys(bounds)
    let n = 0
    try {
      for (;;) {
        const got = (await it.nextv(1_000)).length
        if (got === 0) return n
        n += got
      }
    } finally {
      await it.close()
    }
  }
}

export interface RowBounds { gt?: Uint8Array, gte?: Uint8Array, lt?: Uint8Array, lte?: Uint8Array }

interface Note { h: string, i: number, r: string }

/** A record's copy beside the rows: its entry and operation, key, writer, time and value (dag-cbor, as the log holds values). */
interface Copy { h: string, i: number, k: string, w: string, t?: number, v: unknown }

function encodeCopy (d: Decider, record: QueryRecord<unknown>): Uint8Array {
  const copy: Copy = { h: d.hash, i: d.index ?? 0, k: record.key, w: record.writer, v: record.value, ...(record.time !== undefined ? { t: record.time } : {}) }
  return dagCbor.encode(copy)
}

/** The indexes of one database, kept up to date with its record index. */
export class IndexSet {
  readonly #indexes: SecondaryIndex[] = []
  readonly #level: IndexLevel
  readonly #meta: Sub
  /** A copy of each indexed record, by its key, written with its rows: what a page reads. */
  readonly #copies: Sub
  readonly #source: IndexSource
  readonly #progress: (p: IndexProgress) => void
  /** Keys whose deciding entry changed since their rows were written. */
  #dirty = new Set<string>()
  #work: Promise<void> = Promise.resolve()
  /** Whether the indexes started: every rebuild, flush and close then runs in `#work`, one at a time. */
  #started = false
  /** Indexes whose rows are known to match the record index (trusted or rebuilt). */
  readonly #built = new Set<string>()
  /** Indexes whose clean mark is gone, so that a crash from here on is noticed at the next open. */
  readonly #uncleaned = new Set<string>()
  #closed = false
  readonly #eager: boolean

  /**
   * `eager`: start at the first change, so that rows on disk follow every write; otherwise
   * at the first query (a private database's, whose rows only a member can compute).
   */
  constructor (level: IndexLevel, fields: ReadonlyArray<readonly string[]>, source: IndexSource, options: { eager: boolean, progress?: (p: IndexProgress) => void }) {
    this.#eager = options.eager
    this.#level = level
    this.declare(fields)
    this.#meta = level.sublevel<Uint8Array, Uint8Array>('meta', { keyEncoding: 'view', valueEncoding: 'view' }) as unknown as Sub
    this.#copies = level.sublevel<Uint8Array, Uint8Array>('copies', { keyEncoding: 'view', valueEncoding: 'view' }) as unknown as Sub
    this.#source = source
    this.#progress = options.progress ?? (() => {})
  }

  get indexes (): readonly SecondaryIndex[] {
    return this.#indexes
  }

  /**
   * The records rows point at, from the copies kept beside the rows (undefined where the copy
   * is gone or of another entry: then the log has it). One read for them all, where loading
   * each from its log entry costs a block read, a hash and a decode of the whole entry.
   */
  async copies (refs: readonly RowRef[]): Promise<Array<QueryRecord<unknown> | undefined>> {
    const stored = await this.#copies.getMany(refs.map((ref) => encoder.encode(ref.key ?? '')))
    return refs.map((ref, n) => {
      const bytes = stored[n]
      if (ref.key === undefined || bytes === undefined) return undefined
      const copy = dagCbor.decode<Copy>(bytes)
      if (copy.h !== ref.hash || copy.i !== ref.index) return undefined
      return { key: copy.k, value: copy.v, writer: copy.w, hash: copy.h, ...(copy.t !== undefined ? { time: copy.t } : {}) }
    })
  }

  /**
   * Add indexes on `fields` (each a list of fields) not declared yet, and build them from the
   * record index: now when `eager` (so `index:progress` follows an open), else at the first query.
   */
  declare (fields: ReadonlyArray<readonly string[]>): void {
    let added = false
    for (const f of fields) {
      if (this.#indexes.some((index) => JSON.stringify(index.fields) === JSON.stringify(f))) continue
      const index = new SecondaryIndex(this.#level, f)
      this.#indexes.push(index)
      added = true
      if (this.#started) this.#then(async () => this.#startIndex(index))
    }
    if (added && this.#eager && !this.#closed) this.ready().catch((err) => { log('building the indexes failed: %e', err) })
  }

  /** The record index changed the deciding entry of `key`: rewrite its rows (starting the indexes, when `eager`). */
  changed (key: string): void {
    // Without an index there are no rows: a later index is built from the record index.
    if (this.#closed || this.#indexes.length === 0) return
    this.#dirty.add(key)
    if (this.#started) this.#then(async () => this.#flush())
    else if (this.#eager) this.ready().catch((err) => { log('starting the indexes failed: %e', err) })
  }

  /** Resolves once every row reflects the record index as it is now (rebuilt first if the last run did not close cleanly). */
  async ready (): Promise<void> {
    this.#started = true
    // An entry the heads show may still be on its way through the record index: its change comes first.
    await this.#source.caughtUp()
    // Indexes not built yet (a rebuild that failed is tried again), then what changed since.
    for (const index of this.#indexes) if (!this.#built.has(index.id)) this.#then(async () => this.#startIndex(index))
    this.#then(async () => this.#flush())
    await this.#work
    const unbuilt = this.#indexes.find((index) => !this.#built.has(index.id))
    if (unbuilt !== undefined && !this.#closed) throw new InvariantError(`the index on ${unbuilt.fields.join(', ')} could not be built (see the debug log)`)
  }

  #then (task: () => Promise<void>): void {
    this.#work = this.#work.then(task).catch((err) => { log('index update failed: %e', err) })
  }

  /** Trust an index's rows if the last run closed cleanly at the log's heads now; rebuild them otherwise. */
  async #startIndex (index: SecondaryIndex): Promise<void> {
    if (this.#built.has(index.id)) return
    const mark = await this.#meta.get(encoder.encode(`clean-${index.id}`))
    if (mark === undefined || JSON.stringify(parse(mark)) !== JSON.stringify(await this.#source.heads())) await this.#rebuild(index)
    this.#built.add(index.id)
  }

  /**
   * Compare every key's note with its deciding entry and mark those that differ (all of
   * them for a new index); the flush that follows rewrites their rows.
   */
  async #rebuild (index: SecondaryIndex): Promise<void> {
    const deciders = await this.#source.deciders()
    const noted = new Map<string, string>()
    for await (const [key, note] of index.notes.iterator()) {
      const { h, i } = parse<Note>(note as Uint8Array)
      noted.set(decoder.decode(key as Uint8Array), `${h}/${i}`)
    }
    for (const d of deciders) {
      const now = d.deleted ? undefined : `${d.hash}/${d.index ?? 0}`
      if (noted.get(d.key) !== now) this.#dirty.add(d.key)
      noted.delete(d.key)
    }
    // Notes of keys the record index does not hold (a log restored from an older copy).
    for (const key of noted.keys()) this.#dirty.add(key)
    const total = this.#dirty.size
    log('rebuilding index %s (%s): %d of %d keys to write', index.id, index.fields.join(', '), total, deciders.length)
    this.#progress({ fields: index.fields, done: 0, total })
    await this.#flush((done) => { this.#progress({ fields: index.fields, done, total }) })
  }

  /** Rewrite the rows of the marked keys, a batch at a time. */
  async #flush (progress?: (done: number) => void): Promise<void> {
    let done = 0
    while (this.#dirty.size > 0 && !this.#closed) {
      const keys = [...this.#dirty].slice(0, BATCH_KEYS)
      for (const key of keys) this.#dirty.delete(key)
      try {
        await this.#rewrite(keys)
      } catch (err) {
        for (const key of keys) this.#dirty.add(key)
        throw err
      }
      done += keys.length
      progress?.(done)
    }
  }

  async #rewrite (keys: readonly string[]): Promise<void> {
    const ops: any[] = []
    const marked = this.#indexes.filter((index) => !this.#uncleaned.has(index.id))
    for (const index of marked) ops.push({ type: 'del', sublevel: this.#meta, key: encoder.encode(`clean-${index.id}`) })
    const records = await Promise.all(keys.map(async (key) => {
      const d = this.#source.decider(key)
      return d === undefined || d.deleted ? undefined : { d, record: await this.#source.record(d) }
    }))
    keys.forEach((key, n) => {
      const now = records[n]
      if (now?.record === undefined) ops.push({ type: 'del', sublevel: this.#copies, key: encoder.encode(key) })
      else ops.push({ type: 'put', sublevel: this.#copies, key: encoder.encode(key), value: encodeCopy(now.d, now.record) })
    })
    for (const index of this.indexes) {
      const notes = await index.notes.getMany(keys.map((k) => encoder.encode(k)))
      keys.forEach((key, n) => {
        const noteKey = encoder.encode(key)
        const old = notes[n] === undefined ? undefined : parse<Note>(notes[n] as Uint8Array)
        const now = records[n]
        const row = now?.record === undefined ? undefined : index.rowKey(now.record)
        if (old !== undefined && (row === undefined || compareBytes(base64url.baseDecode(old.r), row) !== 0)) {
          ops.push({ type: 'del', sublevel: index.rows, key: base64url.baseDecode(old.r) })
        }
        // A record this replica cannot read (a private database's entry this member cannot
        // open yet) gets no row and no note, so the next rebuild tries it again.
        if (now === undefined || row === undefined) {
          if (old !== undefined) ops.push({ type: 'del', sublevel: index.notes, key: noteKey })
          return
        }
        const ref: RowRef = { hash: now.d.hash, index: now.d.index ?? 0, key }
        ops.push({ type: 'put', sublevel: index.rows, key: row, value: json(ref) })
        ops.push({ type: 'put', sublevel: index.notes, key: noteKey, value: json({ h: ref.hash, i: ref.index, r: base64url.baseEncode(row) }) })
      })
    }
    if (this.#closed) return
    await this.#level.batch(ops)
    for (const index of marked) this.#uncleaned.add(index.id)
  }

  /**
   * Closing: finish the rows, and leave the clean mark at the log's heads if nothing moved
   * meanwhile, so the next open trusts the rows without comparing them.
   */
  async close (): Promise<void> {
    if (!this.#started || this.#closed) {
      this.#closed = true
      return
    }
    try {
      const heads = await this.#source.heads()
      // Catches up with the record index, then writes every row that changed.
      await this.ready()
      if (JSON.stringify(await this.#source.heads()) === JSON.stringify(heads) && this.#dirty.size === 0) {
        await this.#level.batch(this.indexes.map((index) => ({ type: 'put', sublevel: this.#meta, key: encoder.encode(`clean-${index.id}`), value: json(heads) })) as any)
      }
    } catch (err) {
      // Without the clean mark, the next open compares every row: nothing is lost.
      log('closing the indexes left them to be checked at the next open: %e', err)
    } finally {
      this.#closed = true
    }
  }
}
