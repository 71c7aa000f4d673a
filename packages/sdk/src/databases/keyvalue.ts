import type { KeyValueDatabase as OrbitKeyValue } from '@orbitdb/core'
import type { AbortOptions } from '../abort.js'
import { type KeyedRecord, RecordDatabase } from './records.js'
import { assertKey } from './write-gate.js'

/** A key-value record. */
export type KeyValueRecord<T> = KeyedRecord<T>

/**
 * A key-value database. `get` reads an index that every replica computes alike: the
 * latest write of a key wins (Lamport time, then clock id, then entry hash).
 */
export class KeyValueDatabase<T = unknown> extends RecordDatabase<T> {
  readonly type = 'keyvalue' as const

  private get kv (): OrbitKeyValue {
    return this.db as OrbitKeyValue
  }

  /** Set `key` to `value`. Resolves to the entry hash. */
  async put (key: string, value: T, options?: AbortOptions): Promise<string> {
    assertKey(key)
    if (this.vault !== undefined) return this.writeSealed('PUT', key, value, options)
    return this.write({ op: 'PUT', key, value }, async () => this.kv.put(key, value), options)
  }

  /** Remove `key`. Resolves to the entry hash. */
  async del (key: string, options?: AbortOptions): Promise<string> {
    assertKey(key)
    if (this.vault !== undefined) return this.writeSealed('DEL', key, null, options)
    return this.write({ op: 'DEL', key, value: null }, async () => this.kv.del(key), options)
  }
}
