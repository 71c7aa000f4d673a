import type { AbortOptions } from '../abort.js'
import type { BatchFill, KeyValueBatch } from './batch.js'
import { type KeyedRecord, RecordDatabase } from './records.js'
import { assertKey } from './values.js'

/** A key-value record. */
export type KeyValueRecord<T> = KeyedRecord<T>

/**
 * A key-value database. `get` reads an index that every replica computes alike: the
 * latest write of a key wins (Lamport time, then clock id, then entry hash).
 */
export class KeyValueDatabase<T = unknown> extends RecordDatabase<T> {
  readonly type = 'keyvalue' as const

  /**
   * Set `key` to `value`. Resolves to the hash of the entry that holds it: writes issued
   * together (not awaiting each other) share entries, in the order they were issued.
   */
  async put (key: string, value: T, options?: AbortOptions): Promise<string> {
    assertKey(key)
    return this.writeRecord('PUT', key, value, options)
  }

  /** Remove `key`. Resolves to the entry hash. */
  async del (key: string, options?: AbortOptions): Promise<string> {
    assertKey(key)
    return this.writeRecord('DEL', key, null, options)
  }

  /**
   * Write the puts and deletes `fill` adds in one signed entry, in their order: all of them,
   * or none (the error of the first that fails, and nothing written). Resolves to the entry hash.
   *
   * @example
   * ```ts
   * await db.batch((b) => { b.put('a', 1).put('b', 2).del('c') })
   * ```
   */
  async batch (fill: BatchFill<KeyValueBatch<T>>, options?: AbortOptions): Promise<string> {
    const writes: Array<{ op: 'PUT' | 'DEL', key: string, value: unknown }> = []
    const batch: KeyValueBatch<T> = {
      put: (key, value) => {
        assertKey(key)
        writes.push({ op: 'PUT', key, value })
        return batch
      },
      del: (key) => {
        assertKey(key)
        writes.push({ op: 'DEL', key, value: null })
        return batch
      }
    }
    await fill(batch)
    return this.writeRecords(writes, options)
  }
}
