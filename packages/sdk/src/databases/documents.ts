import type { LogEntry, DocumentsDatabase as OrbitDocuments } from '@orbitdb/core'
import { assertKey, DatabaseHandle, type HandleContext, type Signed } from './database.js'
import { InvalidValueError } from '../errors.js'
import { RecordIndex, recordKeyOf } from './record-index.js'

export interface DocumentRecord<T> extends Signed<T> {
  key: string
}

/** A document database: JSON-like documents keyed by the field named `indexBy`. */
export class DocumentsDatabase<T extends Record<string, unknown> = Record<string, unknown>> extends DatabaseHandle {
  readonly type = 'documents' as const
  /** The field that holds each document's key. Fixed when the database is created. */
  readonly indexBy: string
  readonly #index: RecordIndex

  constructor (ctx: HandleContext, indexBy: string) {
    super(ctx)
    this.indexBy = indexBy
    this.#index = new RecordIndex(async (hash) => this.db.log.get(hash), async () => this.db.log.heads(), recordKeyOf, ctx.snapshots && { store: ctx.snapshots, has: async (hash) => this.db.log.has(hash) })
  }

  protected override indexEntry (entry: LogEntry): void {
    this.#index.add(entry)
  }

  protected override async beforeClose (): Promise<void> {
    await this.#index.save()
  }

  private get docs (): OrbitDocuments {
    return this.db as OrbitDocuments
  }

  /** Insert or replace a document. Resolves to the entry hash. */
  async put (doc: T): Promise<string> {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new InvalidValueError('a document must be an object')
    }
    assertKey(doc[this.indexBy], `document field "${this.indexBy}"`)
    return this.write({ op: 'PUT', key: doc[this.indexBy], value: doc }, async () => this.docs.put(doc))
  }

  /** Delete the document with `key`. Resolves to the entry hash. */
  async del (key: string): Promise<string> {
    assertKey(key)
    if ((await this.get(key)) === undefined) {
      throw new InvalidValueError(`no document with ${this.indexBy} = ${JSON.stringify(key)} in ${this.address}`)
    }
    return this.write({ op: 'DEL', key, value: null }, async () => this.docs.del(key))
  }

  async get (key: string): Promise<T | undefined> {
    assertKey(key)
    const winner = await this.#index.winner(key)
    if (winner === undefined || winner.deleted) return undefined
    return this.valueAt<T>(winner.hash)
  }

  /** Documents for which `predicate` is true. */
  async * query (predicate: (doc: T) => boolean): AsyncGenerator<T> {
    for await (const { value } of this.entries()) {
      if (predicate(value)) yield value
    }
  }

  /**
   * Every live document with its writer, latest write first. Every replica computes the
   * same: the latest write of a key wins (Lamport time, then clock id, then entry hash).
   */
  async * entries (): AsyncGenerator<DocumentRecord<T>> {
    for (const { key, hash, writer } of await this.#index.live()) {
      yield { key, value: await this.valueAt<T>(hash), hash, writer }
    }
  }
}
