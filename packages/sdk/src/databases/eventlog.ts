import { type DataPayload, dataPayloadsOf } from '@didbase/access/internal'
import type { AbortOptions } from '../abort.js'
import { InvalidValueError } from '../errors.js'
import type { BatchFill, EventLogBatch } from './batch.js'
import { DatabaseHandle, type Signed, timeOf } from './database.js'
import { inClockOrder } from './record-index.js'

export interface EventLogReadOptions {
  /** At most this many events, newest first. */
  limit?: number
}

/** An append-only event log. */
export class EventLogDatabase<T = unknown> extends DatabaseHandle {
  readonly type = 'events' as const

  /**
   * Append `value`. Resolves to the hash of the entry that holds it: events added together
   * (not awaiting each other) share entries, in the order they were added.
   */
  async add (value: T, options?: AbortOptions): Promise<string> {
    return this.commit(async (heads) => [await this.#event(value, heads)], options)
  }

  /**
   * Append the events `fill` adds in one signed entry, in their order: all of them, or none
   * (the error of the first that fails, and nothing written). Resolves to the entry hash.
   */
  async batch (fill: BatchFill<EventLogBatch<T>>, options?: AbortOptions): Promise<string> {
    const values: T[] = []
    const batch: EventLogBatch<T> = {
      add: (value) => {
        values.push(value)
        return batch
      }
    }
    await fill(batch)
    if (values.length === 0) throw new InvalidValueError('a batch needs at least one operation')
    return this.commit(async (heads) => Promise.all(values.map(async (value) => this.#event(value, heads))), options, true)
  }

  async #event (value: T, heads: readonly string[]): Promise<DataPayload> {
    const vault = this.vault
    return { op: 'ADD', key: null, value: vault === undefined ? value : await vault.seal(null, value, null, heads) }
  }

  /** An event's value, opened when the database is private; undefined (and reported) when this member cannot read it. */
  async #valueOf (hash: string, writer: string, stored: unknown): Promise<{ value: T } | undefined> {
    if (this.vault === undefined) return { value: stored as T }
    const opened = await this.vault.open(stored, null)
    if ('ok' in opened) return { value: opened.ok.value as T }
    this.reportUnreadable(hash, writer, opened.unreadable, opened.message)
    return undefined
  }

  /** The event with entry hash `hash` (and position `index` in it, when the entry is a batch), if this replica has it. */
  async get (hash: string, index = 0): Promise<Signed<T> | undefined> {
    const entry = await this.db.log.get(hash)
    if (entry === undefined) return undefined
    const ops = dataPayloadsOf(entry.payload)
    const op = ops[index]
    if (op?.op !== 'ADD') return undefined
    const opened = await this.#valueOf(hash, entry.identity, op.value)
    if (opened === undefined) return undefined
    const time = timeOf(entry.payload, op)
    return { value: opened.value, hash, writer: entry.identity, ...(ops.length > 1 ? { index } : {}), ...(time === undefined ? {} : { time }) }
  }

  /** Events, latest first, in the same order on every replica (the events of one entry: the last added first). */
  async * entries (options: EventLogReadOptions = {}): AsyncGenerator<Signed<T>> {
    await this.vault?.assertMember()
    let left = options.limit ?? Number.POSITIVE_INFINITY
    if (left <= 0) return
    for await (const entry of inClockOrder(this.db.log.iterator())) {
      // Access operations (grants, invites) share the log; they are not events.
      const ops = dataPayloadsOf(entry.payload)
      for (let index = ops.length - 1; index >= 0; index--) {
        const op = ops[index] as DataPayload
        if (op.op !== 'ADD') continue
        const opened = await this.#valueOf(entry.hash, entry.identity, op.value)
        if (opened === undefined) continue
        const time = timeOf(entry.payload, op)
        yield { value: opened.value, hash: entry.hash, writer: entry.identity, ...(ops.length > 1 ? { index } : {}), ...(time === undefined ? {} : { time }) }
        if (--left <= 0) return
      }
    }
  }
}
