/**
 * What key-value and document databases share: records keyed by a string, read from the
 * record index that every replica computes alike (record-index.ts), and queried by fields
 * (../queries/), through the indexes a replica declares.
 */
import { type DataPayload, dataPayloadsOf } from '@didbase/access/internal'
import type { LogEntry } from '@orbitdb/core'
import { type AbortOptions, abortable } from '../abort.js'
import { DatabaseHandle, type HandleContext, type Signed, timeOf } from './database.js'
import { RecordIndex, recordWritesOf, type Winner } from './record-index.js'
import { InvalidQueryError, InvalidValueError } from '../errors.js'
import { assertKey } from './values.js'
import { QueryEngine } from '../queries/engine.js'
import { type IndexProgress, IndexSet, type RowRef } from '../queries/indexes.js'
import { LiveQuery, type RecordChange, type WatchOptions } from '../queries/live.js'
import type { Explanation } from '../queries/planner.js'
import { assertField, type Field, type Page, planOf, type Query, type QueryRecord, type Where } from '../queries/query.js'

/** A live record: its key, its value and the DID that wrote it. */
export interface KeyedRecord<T> extends Signed<T> {
  key: string
}

/** An index to declare: one field, or several (a compound index, sorted by each in turn). */
export type IndexFields<T> = Field<T> | ReadonlyArray<Field<T>>

/** Decoded entries a handle keeps, the latest read. */
const RECENT_ENTRIES = 8

/** At most this many indexes per database, of at most this many fields. */
const MAX_INDEXES = 16
const MAX_INDEX_FIELDS = 8

/** Check declared indexes: each a field or a list of fields, `key` excluded (every index ends with it). */
export function indexFieldsOf (indexes: ReadonlyArray<IndexFields<unknown>> | undefined): string[][] {
  if (indexes === undefined) return []
  if (!Array.isArray(indexes) || indexes.length > MAX_INDEXES) throw new InvalidQueryError(`indexes: a list of at most ${MAX_INDEXES} fields or lists of fields`)
  return indexes.map((index) => {
    const fields = typeof index === 'string' ? [index] : index
    if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_INDEX_FIELDS) throw new InvalidQueryError(`indexes: each a field or a list of 1 to ${MAX_INDEX_FIELDS} fields`)
    for (const field of fields) {
      assertField(field)
      if (field === 'key') throw new InvalidQueryError('indexes: every index is sorted by key last already; leave key out')
    }
    if (new Set(fields).size !== fields.length) throw new InvalidQueryError(`indexes: ${fields.join(', ')} names a field twice`)
    return [...fields] as string[]
  })
}

export abstract class RecordDatabase<T> extends DatabaseHandle {
  readonly #index: RecordIndex
  readonly #indexes: IndexSet | undefined
  readonly #queries: QueryEngine<T>
  /** Watches running, ended when the database closes. */
  readonly #watches = new Set<LiveQuery<T>>()
  /**
   * The entries read last, decoded: a batch's records are read one after another (by a scan,
   * an index's rewrite, a watch judging a change), and OrbitDB decodes an entry at every
   * read, so a batch of 1,000 operations would be decoded 1,000 times. Few, as an entry may
   * hold up to a MiB.
   */
  readonly #recent = new Map<string, Promise<LogEntry | undefined>>()

  constructor (ctx: HandleContext) {
    super(ctx)
    this.#index = new RecordIndex(async (hash) => this.db.log.get(hash), async () => this.db.log.heads(), recordWritesOf, ctx.storage.snapshots && { store: ctx.storage.snapshots, has: ctx.storage.stored })
    const level = ctx.storage.queryIndexes
    if (level !== undefined) {
      const indexes = new IndexSet(level, [], {
        deciders: async () => this.#index.all(),
        caughtUp: async () => this.#index.caughtUp(),
        decider: (key) => this.#index.current(key),
        record: async (d) => this.#recordAt({ hash: d.hash, index: d.index ?? 0 }),
        heads: async () => (await this.db.log.heads()).map((h) => h.hash).sort()
      }, {
        eager: this.vault === undefined,
        progress: (detail: IndexProgress) => { this.safeDispatchEvent('index:progress', { detail }) }
      })
      this.#index.onChange((key) => { indexes.changed(key) })
      this.#indexes = indexes
    }
    this.#queries = new QueryEngine<T>({ records: () => this.entries(), recordAt: async (ref) => this.#recordAt(ref) }, this.#indexes)
  }

  protected override indexEntry (entry: LogEntry): void {
    this.#index.add(entry)
  }

  protected override async beforeClose (): Promise<void> {
    for (const watch of [...this.#watches]) watch.close()
    await this.#index.save()
    await this.#indexes?.close()
  }

  /**
   * Keep indexes on these fields (see `CreateOptions.indexes`), building those new to this
   * replica from its records. Reports `index:progress` while building.
   * @internal
   */
  declareIndexes (indexes: ReadonlyArray<IndexFields<T>> | undefined): void {
    const fields = indexFieldsOf(indexes as ReadonlyArray<IndexFields<unknown>> | undefined)
    if (fields.length > 0) this.#indexes?.declare(fields)
  }

  /** The fields of each index this replica keeps for queries. */
  get indexes (): string[][] {
    return (this.#indexes?.indexes ?? []).map((index) => [...index.fields])
  }

  /** The live value of `key`, or `undefined` when it has none (never written, or deleted). */
  async get (key: string, options?: AbortOptions): Promise<T | undefined> {
    assertKey(key)
    return abortable(this.#valueOf(key), options)
  }

  async #valueOf (key: string): Promise<T | undefined> {
    const vault = this.vault
    const winner = await this.#index.winner(vault === undefined ? key : await vault.blind(key))
    if (winner === undefined || winner.deleted) return undefined
    return (await this.#recordAt({ hash: winner.hash, index: winner.index ?? 0 }))?.value
  }

  /**
   * The record operation `ref.index` of the entry `ref.hash` writes, as this replica reads it:
   * opened in a private database (undefined, and reported, when this member cannot).
   */
  async #recordAt (ref: RowRef): Promise<QueryRecord<T> | undefined> {
    const entry = await this.#entry(ref.hash)
    const op = entry === undefined ? undefined : dataPayloadsOf(entry.payload)[ref.index]
    if (entry === undefined || op === undefined || typeof op.key !== 'string') return undefined
    const time = timeOf(entry.payload, op)
    const dated = time === undefined ? {} : { time }
    const vault = this.vault
    if (vault === undefined) return { key: op.key, value: op.value as T, hash: ref.hash, writer: entry.identity, ...dated }
    const opened = await vault.open(op.value, op.key)
    if ('ok' in opened) return { key: opened.ok.key as string, value: opened.ok.value as T, hash: ref.hash, writer: entry.identity, ...dated }
    this.reportUnreadable(ref.hash, entry.identity, opened.unreadable, opened.message)
    return undefined
  }

  async #entry (hash: string): Promise<LogEntry | undefined> {
    let entry = this.#recent.get(hash)
    if (entry !== undefined) {
      this.#recent.delete(hash)
    } else {
      entry = this.db.log.get(hash)
      if (this.#recent.size >= RECENT_ENTRIES) this.#recent.delete(this.#recent.keys().next().value as string)
      // A failed read is not kept.
      entry.catch(() => { this.#recent.delete(hash) })
    }
    this.#recent.set(hash, entry)
    return entry
  }

  /** Write `key` (PUT or DEL): checked alone, committed with the writes issued around it. */
  protected async writeRecord (op: 'PUT' | 'DEL', key: string, value: unknown, options?: AbortOptions): Promise<string> {
    return this.commit(async (heads) => [await this.recordPayload(op, key, value, heads)], options)
  }

  /** Write several records in one entry, in their order: all of them, or none. */
  protected async writeRecords (writes: ReadonlyArray<{ op: 'PUT' | 'DEL', key: string, value: unknown }>, options?: AbortOptions): Promise<string> {
    if (writes.length === 0) throw new InvalidValueError('a batch needs at least one operation')
    return this.commit(async (heads) => Promise.all(writes.map(async (w) => this.recordPayload(w.op, w.key, w.value, heads))), options, true)
  }

  /** The payload of a write to `key` linking to `heads`: as given, or blinded and sealed in a private database. */
  protected async recordPayload (op: 'PUT' | 'DEL', key: string, value: unknown, heads: readonly string[]): Promise<DataPayload> {
    const vault = this.vault
    if (vault === undefined) return { op, key, value }
    const blinded = await vault.blind(key, 'write')
    return { op, key: blinded, value: op === 'DEL' ? null : await vault.seal(key, value, blinded, heads) }
  }

  /**
   * Every live record with its writer, latest write first. Every replica computes the
   * same: the latest write of a key wins (Lamport time, then clock id, then entry hash).
   */
  async * entries (): AsyncGenerator<KeyedRecord<T>> {
    await this.vault?.assertMember()
    for (const { hash, index } of await this.#index.live()) {
      const record = await this.#recordAt({ hash, index: index ?? 0 })
      if (record !== undefined) yield record
    }
  }

  /**
   * The records that match `query.where`, sorted by `query.sort` (then by key), at most
   * `query.limit` of them, after the page whose `cursor` is `query.after`. Uses the best
   * index this replica keeps (`explain` says which), or reads every record. Throws
   * `InvalidQueryError` for a query that cannot run. See docs/queries.md.
   *
   * @example
   * ```ts
   * const page = await notes.find({ where: { 'value.author': alice }, sort: [['time', 'desc']], limit: 20 })
   * const next = page.cursor === undefined ? undefined : await notes.find({ where: { 'value.author': alice }, sort: [['time', 'desc']], limit: 20, after: page.cursor })
   * ```
   */
  async find (query?: Query<T>, options?: AbortOptions): Promise<Page<T>> {
    const plan = planOf(query as Query<unknown>)
    await this.vault?.assertMember()
    return abortable(this.#queries.find(plan, options?.signal), options)
  }

  /** How many records match `where`. */
  async count (where?: Where<T>, options?: AbortOptions): Promise<number> {
    const plan = planOf({ where } as Query<unknown>)
    await this.vault?.assertMember()
    return abortable(this.#queries.count(plan, options?.signal), options)
  }

  /** How `find(query)` would run: which index it reads, and which conditions that index answers. */
  explain (query?: Query<T>): Explanation {
    return this.#queries.explain(planOf(query as Query<unknown>))
  }

  /**
   * Watch a query: its first page, then its page again each time a write (from this replica
   * or another) changes it; a write that leaves the page as it was gives nothing. Iterate the
   * result, or pass `onPage`; `signal`, `close()` or closing the database ends it.
   *
   * @example
   * ```ts
   * const live = notes.watch({ sort: [['time', 'desc']], limit: 20 }, { signal })
   * for await (const page of live) render(page.records)
   * ```
   */
  watch (query?: Query<T>, options?: WatchOptions<T>): LiveQuery<T> {
    const plan = planOf(query as Query<unknown>)
    const watch = new LiveQuery<T>({
      plan,
      ended: (ended) => { this.#watches.delete(ended) },
      run: async () => {
        await this.vault?.assertMember()
        return this.#queries.find(plan)
      },
      subscribe: (listener) => this.#index.onChange((_key, before, after) => {
        listener(this.#changeOf(before, after))
      })
    }, options)
    if (!this.replica.closing) this.#watches.add(watch)
    else watch.close()
    return watch
  }

  #changeOf (before: Winner | undefined, after: Winner): RecordChange<T> {
    let record: Promise<QueryRecord<T> | undefined> | undefined
    return {
      before: before === undefined || before.deleted ? undefined : before.hash,
      after: async () => {
        if (after.deleted) return undefined
        record ??= this.#recordAt({ hash: after.hash, index: after.index ?? 0 }).catch(() => undefined)
        return record
      }
    }
  }
}
