import type { DocumentsDatabase as OrbitDocuments } from '@orbitdb/core'
import type { AbortOptions } from '../abort.js'
import { InvalidValueError } from '../errors.js'
import type { HandleContext } from './database.js'
import { type KeyedRecord, RecordDatabase } from './records.js'
import { assertKey } from './write-gate.js'

/** A document with its key (the `indexBy` field) and writer. */
export type DocumentRecord<T> = KeyedRecord<T>

/** A document database: JSON-like documents keyed by the field named `indexBy`. */
export class DocumentsDatabase<T extends Record<string, unknown> = Record<string, unknown>> extends RecordDatabase<T> {
  readonly type = 'documents' as const
  /** The field that holds each document's key. Fixed when the database is created. */
  readonly indexBy: string

  constructor (ctx: HandleContext, indexBy: string) {
    super(ctx)
    this.indexBy = indexBy
  }

  private get docs (): OrbitDocuments {
    return this.db as OrbitDocuments
  }

  /** Insert or replace a document. Resolves to the entry hash. */
  async put (doc: T, options?: AbortOptions): Promise<string> {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new InvalidValueError('a document must be an object')
    }
    const key = doc[this.indexBy]
    assertKey(key, `document field "${this.indexBy}"`)
    if (this.vault !== undefined) return this.writeSealed('PUT', key, doc, options)
    return this.write({ op: 'PUT', key, value: doc }, async () => this.docs.put(doc), options)
  }

  /** Delete the document with `key`. Resolves to the entry hash. */
  async del (key: string, options?: AbortOptions): Promise<string> {
    assertKey(key)
    if ((await this.get(key, options)) === undefined) {
      throw new InvalidValueError(`no document with ${this.indexBy} = ${JSON.stringify(key)} in ${this.address}`)
    }
    if (this.vault !== undefined) return this.writeSealed('DEL', key, null, options)
    return this.write({ op: 'DEL', key, value: null }, async () => this.docs.del(key), options)
  }

  /** Documents for which `predicate` is true. */
  async * query (predicate: (doc: T) => boolean): AsyncGenerator<T> {
    for await (const { value } of this.entries()) {
      if (predicate(value)) yield value
    }
  }
}
