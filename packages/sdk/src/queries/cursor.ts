/**
 * A page's cursor: where the next page starts, as the last record's sort values (its key
 * last, which is unique). The next page holds what sorts after it at the time it is read,
 * so records written meanwhile are neither skipped nor repeated unless they moved.
 * Opaque to callers; it names the sort it was made for, and another sort refuses it.
 */
import { base64url } from 'multiformats/bases/base64'
import { InvalidQueryError } from '../errors.js'
import { decodeTuple, encodeTuple } from './order.js'
import type { SortField } from './query.js'

const VERSION = 1

/** A short tag of a sort, so a cursor is not taken by a query that sorts otherwise. */
function sortTag (sort: readonly SortField[]): number {
  let h = 0x811c9dc5
  for (const c of JSON.stringify(sort)) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0
  return h
}

export function encodeCursor (sort: readonly SortField[], values: readonly unknown[]): string {
  const tuple = encodeTuple(values)
  const bytes = new Uint8Array(5 + tuple.length)
  bytes[0] = VERSION
  new DataView(bytes.buffer).setUint32(1, sortTag(sort))
  bytes.set(tuple, 5)
  return base64url.baseEncode(bytes)
}

/** The sort values a cursor holds. Throws `InvalidQueryError` for a cursor of another sort, or not a cursor. */
export function decodeCursor (sort: readonly SortField[], cursor: string): unknown[] {
  let values: unknown[]
  try {
    const bytes = base64url.baseDecode(cursor)
    if (bytes[0] !== VERSION || bytes.length < 5) throw new Error('version')
    if (new DataView(bytes.buffer, bytes.byteOffset).getUint32(1) !== sortTag(sort)) {
      throw new InvalidQueryError('after: this cursor is from a query with another sort')
    }
    values = decodeTuple(bytes.subarray(5))
  } catch (err) {
    if (err instanceof InvalidQueryError) throw err
    throw new InvalidQueryError('after: not a cursor of a page')
  }
  if (values.length !== sort.length || typeof values.at(-1) !== 'string') throw new InvalidQueryError('after: not a cursor of a page')
  return values
}
