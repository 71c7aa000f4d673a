/**
 * One order for every value a query compares, as bytes: an index on disk (LevelDB, or
 * IndexedDB, which both compare keys byte by byte) and a scan in memory sort alike because
 * both compare these encodings.
 *
 * Classes sort in this order: missing < null < false < true < numbers < strings < anything
 * else (objects, arrays, bytes, big integers: equal among themselves). Numbers sort by value
 * (-0 = 0); strings by Unicode code point (UTF-8 bytes). Each element's encoding is
 * prefix-free, so a tuple of elements compares element by element.
 */
import { InvariantError } from '../errors.js'

export enum Tag {
  Missing = 0x01,
  Null = 0x02,
  False = 0x03,
  True = 0x04,
  Number = 0x05,
  String = 0x06,
  Other = 0x07
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A value's class, as its encoding starts. */
export function tagOf (value: unknown): Tag {
  if (value === undefined) return Tag.Missing
  if (value === null) return Tag.Null
  if (value === false) return Tag.False
  if (value === true) return Tag.True
  if (typeof value === 'number' && Number.isFinite(value)) return Tag.Number
  if (typeof value === 'string') return Tag.String
  return Tag.Other
}

/** The 8 bytes of a float64 that sort as the numbers do. */
function numberBytes (n: number): Uint8Array {
  const bytes = new Uint8Array(8)
  const view = new DataView(bytes.buffer)
  view.setFloat64(0, n === 0 ? 0 : n)
  if (((bytes[0] as number) & 0x80) !== 0) for (let i = 0; i < 8; i++) bytes[i] = ~(bytes[i] as number) & 0xff
  else bytes[0] = (bytes[0] as number) | 0x80
  return bytes
}

function bytesNumber (bytes: Uint8Array): number {
  // A copy: a Node Buffer's slice() is a view, and these bytes may be a store's.
  const copy = Uint8Array.from(bytes)
  if (((copy[0] as number) & 0x80) !== 0) copy[0] = (copy[0] as number) & 0x7f
  else for (let i = 0; i < 8; i++) copy[i] = ~(copy[i] as number) & 0xff
  return new DataView(copy.buffer).getFloat64(0)
}

/** Append the encoding of `value` to `out`. A string's zero bytes are escaped (0x00 0xff) and it ends with 0x00. */
function pushElement (out: number[], value: unknown): void {
  const tag = tagOf(value)
  out.push(tag)
  if (tag === Tag.Number) {
    for (const b of numberBytes(value as number)) out.push(b)
  } else if (tag === Tag.String) {
    for (const b of encoder.encode(value as string)) {
      out.push(b)
      if (b === 0) out.push(0xff)
    }
    out.push(0)
  }
}

/** The bytes of a tuple of values, comparing as the tuples do. */
export function encodeTuple (values: readonly unknown[]): Uint8Array {
  const out: number[] = []
  for (const value of values) pushElement(out, value)
  return Uint8Array.from(out)
}

/** The values of a tuple `encodeTuple` made (anything of the last class comes back as `{}`). */
export function decodeTuple (bytes: Uint8Array): unknown[] {
  const values: unknown[] = []
  let i = 0
  while (i < bytes.length) {
    const tag = bytes[i++]
    if (tag === Tag.Missing) values.push(undefined)
    else if (tag === Tag.Null) values.push(null)
    else if (tag === Tag.False) values.push(false)
    else if (tag === Tag.True) values.push(true)
    else if (tag === Tag.Other) values.push({})
    else if (tag === Tag.Number) {
      if (i + 8 > bytes.length) throw new InvariantError('a tuple ends inside a number')
      values.push(bytesNumber(bytes.subarray(i, i + 8)))
      i += 8
    } else if (tag === Tag.String) {
      const raw: number[] = []
      for (;;) {
        if (i >= bytes.length) throw new InvariantError('a tuple ends inside a string')
        const b = bytes[i++] as number
        if (b !== 0) raw.push(b)
        else if (bytes[i] === 0xff) { raw.push(0); i++ } else break
      }
      values.push(decoder.decode(Uint8Array.from(raw)))
    } else throw new InvariantError(`a tuple holds an unknown class ${tag}`)
  }
  return values
}

/** Byte order: negative when `a` sorts first. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}

/** Order of two values: negative when `a` sorts first, 0 when they are equal in it. */
export function compareValues (a: unknown, b: unknown): number {
  const ta = tagOf(a)
  const tb = tagOf(b)
  if (ta !== tb) return ta - tb
  if (ta === Tag.Number) return (a as number) - (b as number)
  if (ta === Tag.String) return compareCodePoints(a as string, b as string)
  return 0
}

/** Strings by code point, as their UTF-8 bytes sort (JavaScript's `<` compares UTF-16 units). */
export function compareCodePoints (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // Surrogates (astral code points) sort after every other unit from 0xe000 up.
    if (x >= 0xd800 && y >= 0xd800) return surrogateRank(x) - surrogateRank(y)
    return x - y
  }
  return a.length - b.length
}

function surrogateRank (unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit
}

/** The smallest byte string greater than every one that starts with `prefix`. */
export function prefixEnd (prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i] = (end[i] as number) + 1
      return end.subarray(0, i + 1)
    }
  }
  return undefined
}
