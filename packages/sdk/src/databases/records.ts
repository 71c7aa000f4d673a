/**
 * What key-value and document databases share: records keyed by a string, read from the
 * record index that every replica computes alike (record-index.ts).
 */
import type { DataPayload } from '@didbase/access/internal'
import type { LogEntry } from '@orbitdb/core'
import { type AbortOptions, abortable } from '../abort.js'
import { DatabaseHandle, type HandleContext, type Signed } from './database.js'
import { RecordIndex, recordWritesOf } from './record-index.js'
import { InvalidValueError } from '../errors.js'
import { assertKey } from './values.js'

/** A live record: its key, its value and the DID that wrote it. */
export interface KeyedRecord<T> extends Signed<T> {
  key: string
}

export abstract class RecordDatabase<T> extends DatabaseHandle {
  readonly #index: RecordIndex

  constructor (ctx: HandleContext) {
    super(ctx)
    this.#index = new RecordIndex(async (hash) => this.db.log.get(hash), async () => this.db.log.heads(), recordWritesOf, ctx.storage.snapshots && { store: ctx.storage.snapshots, has: ctx.storage.stored })
  }

  protected override indexEntry (entry: LogEntry): void {
    this.#index.add(entry)
  }

  protected override async beforeClose (): Promise<void> {
    await this.#index.save()
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
    if (vault === undefined) return this.valueAt<T>(winner.hash, winner.index)
    const opened = await vault.open(await this.valueAt(winner.hash, winner.index), winner.key)
    if ('ok' in opened) return opened.ok.value as T
    this.reportUnreadable(winner.hash, winner.writer, opened.unreadable, opened.message)
    return undefined
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
    const vault = this.vault
    await vault?.assertMember()
    for (const { key, hash, index, writer } of await this.#index.live()) {
      const { value, time } = await this.operationAt<T>(hash, index)
      const dated = time === undefined ? {} : { time }
      if (vault === undefined) {
        yield { key, value, hash, writer, ...dated }
        continue
      }
      const opened = await vault.open(value, key)
      if ('ok' in opened) yield { key: opened.ok.key as string, value: opened.ok.value as T, hash, writer, ...dated }
      else this.reportUnreadable(hash, writer, opened.unreadable, opened.message)
    }
  }
}
