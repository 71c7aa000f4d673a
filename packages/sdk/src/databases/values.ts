/** What a key and a value must be before anything is read or written with them. */
import { notPlainData } from '@didbase/access/internal'
import * as dagCbor from '@ipld/dag-cbor'
import { InvalidValueError } from '../errors.js'

/** Throw `InvalidValueError` unless `value` can be stored; its size, dag-cbor encoded. */
export function assertEncodable (value: unknown): number {
  return encodeStorable(value).byteLength
}

/**
 * `value` as it is now, in a copy nobody else holds, and its size dag-cbor encoded; throws
 * `InvalidValueError` unless it can be stored. A write checks and appends the copy: what a
 * caller does with its own object afterwards changes neither what was checked nor what is
 * signed.
 */
export function storableCopy<T> (value: T): { copy: T, bytes: number } {
  const encoded = encodeStorable(value)
  return { copy: dagCbor.decode<T>(encoded), bytes: encoded.byteLength }
}

function encodeStorable (value: unknown): Uint8Array {
  const why = notPlainData(value)
  if (why !== undefined) throw new InvalidValueError(`value cannot be stored: ${why}`)
  try {
    return dagCbor.encode(value)
  } catch (cause) {
    throw new InvalidValueError(`value cannot be stored: ${(cause as Error).message} (values must be dag-cbor: no undefined, functions, symbols or non-finite numbers)`, { cause })
  }
}

/** A UTF-16 surrogate without its pair: stored as U+FFFD, so two such keys would be one record. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function assertKey (key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidValueError(`${what} must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
  }
  if (LONE_SURROGATE.test(key)) throw new InvalidValueError(`${what} holds a lone UTF-16 surrogate, which cannot be stored as text`)
}
