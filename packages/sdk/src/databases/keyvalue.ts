import type { KeyValueDatabase as OrbitKeyValue, LogEntry } from '@orbitdb/core'
import { assertKey, DatabaseHandle, type HandleContext, type Signed } from './database.js'
import { RecordIndex, recordKeyOf } from './record-index.js'

export interface KeyValueRecord<T> extends Signed<T> {
  key: string
}

/**
 * A key-value database. `get` reads an index that every replica computes alike: the
 * latest write of a key wins (Lamport time, then clock id, then entry hash).
 */
export class KeyValueDatabase<T = unknown> extends DatabaseHandle {
  readonly type = 'keyvalue' as const
  readonly #index: RecordIndex

  constructor (ctx: HandleContext) {
    super(ctx)
    this.#index = new RecordIndex(async (hash) => this.db.log.get(hash), async () => this.db.log.heads(), recordKeyOf, ctx.snapshots && { store: ctx.snapshots, has: async (hash) => this.db.log.has(hash) })
  }

  private get kv (): OrbitKeyValue {
    return this.db as OrbitKeyValue
  }

  protected override indexEntry (entry: LogEntry): void {
    this.#index.add(entry)
  }

  protected override async beforeClose (): Promise<void> {
    await this.#index.save()
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
    const winner = await this.#index.winner(key)
    if (winner === undefined || winner.deleted) return undefined
    return this.valueAt<T>(winner.hash)
  }

  /** Every live key, latest write first. */
  async * entries (): AsyncGenerator<KeyValueRecord<T>> {
    for (const { key, hash, writer } of await this.#index.live()) {
      yield { key, value: await this.valueAt<T>(hash), hash, writer }
    }
  }
}
