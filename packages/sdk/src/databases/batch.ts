/**
 * Atomic batches: `db.batch((b) => { b.put(...); b.del(...) })` writes its operations in one
 * signed entry, in their order, all or nothing. Every operation is checked as a write of
 * its own would be (key, value, policy, ownership, schema); one that fails fails the batch,
 * and nothing is written. Every replica enforces the limits on one entry: MAX_BATCH_OPS
 * operations and MAX_BATCH_BYTES bytes of them.
 */

/** Operations of a key-value batch, applied in the order they are added. */
// Methods, not function-typed properties: a database of T stays usable as a database of unknown.
export interface KeyValueBatch<T> {
  put (key: string, value: T): KeyValueBatch<T>
  del (key: string): KeyValueBatch<T>
}

/** Operations of a documents batch, applied in the order they are added. */
export interface DocumentsBatch<T> {
  put (doc: T): DocumentsBatch<T>
  /** The document must exist, or be put earlier in the same batch. */
  del (key: string): DocumentsBatch<T>
}

/** Events of an event-log batch, in the order they are added. */
export interface EventLogBatch<T> {
  add (value: T): EventLogBatch<T>
}

/** What fills a batch: it may be async; nothing is written until it returns. */
export type BatchFill<B> = (batch: B) => void | Promise<void>
