import type { KeyValueDatabase as OrbitKeyValue } from '@orbitdb/core'
import { assertKey, DatabaseHandle, type Signed } from './database.js'

export interface KeyValueRecord<T> extends Signed<T> {
  key: string
}

/** A key-value database. `get` reads an index; it does not walk the log. */
export class KeyValueDatabase<T = unknown> extends DatabaseHandle {
  readonly type = 'keyvalue' as const

  private get kv (): OrbitKeyValue {
    return this.db as OrbitKeyValue
  }

  /** Set `key` to `value`. Resolves to the entry hash. */
  async put (key: string, value: T): Promise<string> {
    assertKey(key)
    return this.write({ op: 'PUT', key, value }, async () => this.kv.put(key, value))
  }

  /** Remove `key`. Resolves to the entry hash. */
  async del (key: string): Promise<string> {
    assertKey(key)
    return this.write({ op: 'DEL', key, value: null }, async () => this.kv.del(key))
  }

  async get (key: string): Promise<T | undefined> {
    assertKey(key)
    return (await this.kv.get(key)) as T | undefined
  }

  /** Every live key, newest write first. */
  async * entries (): AsyncGenerator<KeyValueRecord<T>> {
    for await (const { key, value, hash } of this.kv.iterator()) {
      yield { key, value: value as T, hash, writer: await this.writerOf(hash) }
    }
  }
}
