import type { AbortOptions } from '../abort.js'
import { InvalidValueError } from '../errors.js'
import type { HandleContext } from './database.js'
import type { BatchFill, DocumentsBatch } from './batch.js'
import { type KeyedRecord, RecordDatabase } from './records.js'
import { assertKey } from './values.js'

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

  /** Insert or replace a document. Resolves to the hash of the entry that holds it (shared by writes issued together). */
  async put (doc: T, options?: AbortOptions): Promise<string> {
    return this.writeRecord('PUT', this.#keyOf(doc), doc, options)
  }

  /** Delete the document with `key`. Resolves to the entry hash. */
  async del (key: string, options?: AbortOptions): Promise<string> {
    assertKey(key)
    await this.#assertExists(key, options)
    return this.writeRecord('DEL', key, null, options)
  }

  /**
   * Write the documents `fill` puts and deletes in one signed entry, in their order: all of
   * them, or none (the error of the first that fails, and nothing written). Resolves to the entry hash.
   */
  async batch (fill: BatchFill<DocumentsBatch<T>>, options?: AbortOptions): Promise<string> {
    const writes: Array<{ op: 'PUT' | 'DEL', key: string, value: unknown }> = []
    const batch: DocumentsBatch<T> = {
      put: (doc) => {
        writes.push({ op: 'PUT', key: this.#keyOf(doc), value: doc })
        return batch
      },
      del: (key) => {
        assertKey(key)
        writes.push({ op: 'DEL', key, value: null })
        return batch
      }
    }
    await fill(batch)
    const put = new Set<string>()
    for (const w of writes) {
      if (w.op === 'PUT') put.add(w.key)
      else if (!put.has(w.key)) await this.#assertExists(w.key, options)
    }
    return this.writeRecords(writes, options)
  }

  #keyOf (doc: T): string {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new InvalidValueError('a document must be an object')
    }
    const key = doc[this.indexBy]
    assertKey(key, `document field "${this.indexBy}"`)
    return key
  }

  async #assertExists (key: string, options?: AbortOptions): Promise<void> {
    if ((await this.get(key, options)) === undefined) {
      throw new InvalidValueError(`no document with ${this.indexBy} = ${JSON.stringify(key)} in ${this.address}`)
    }
  }

  /** Documents for which `predicate` is true. */
  async * query (predicate: (doc: T) => boolean): AsyncGenerator<T> {
    for await (const { value } of this.entries()) {
      if (predicate(value)) yield value
    }
  }
}
