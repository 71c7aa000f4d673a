/** What a key and a value must be before anything is read or written with them. */
import { notPlainData } from '@didbase/access/internal'
import * as dagCbor from '@ipld/dag-cbor'
import { InvalidValueError } from '../errors.js'

/** Throw `InvalidValueError` unless `value` can be stored; its size, dag-cbor encoded. */
export function assertEncodable (value: unknown): number {
  const why = notPlainData(value)
  if (why !== undefined) throw new InvalidValueError(`value cannot be stored: ${why}`)
  try {
    return dagCbor.encode(value).byteLength
  } catch (cause) {
    throw new InvalidValueError(`value cannot be stored: ${(cause as Error).message} (values must be dag-cbor: no undefined, functions, symbols or non-finite numbers)`, { cause })
  }
}

export function assertKey (key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidValueError(`${what} must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
  }
}
