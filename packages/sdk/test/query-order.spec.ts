/**
 * The byte order indexes are kept in is the order queries mean: tuples encode so that
 * comparing their bytes (as LevelDB and IndexedDB do) compares their values element by
 * element, for every class of value, and decode back. Cursors refuse another sort.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor } from '../src/queries/cursor.js'
import { compareBytes, compareValues, decodeTuple, encodeTuple, prefixEnd } from '../src/queries/order.js'
import { InvalidQueryError } from '../src/errors.js'

const value = fc.oneof(
  fc.constant(undefined), fc.constant(null), fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(),
  fc.string({ unit: 'binary' }), fc.constantFrom('', '\u0000', 'a\u0000b', '\uffff', '\u{1f600}', '\ue000'),
  fc.constantFrom({}, [1], new Uint8Array([1]))
)
const tuple = fc.array(value, { maxLength: 4 })

const sign = (n: number): number => Math.sign(n)

function compareTuples (a: unknown[], b: unknown[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i], b[i])
    if (c !== 0) return c
  }
  return a.length - b.length
}

describe('query order', () => {
  it('compares encoded tuples as it compares their values', () => {
    fc.assert(fc.property(tuple, tuple, (a, b) => {
      expect(sign(compareBytes(encodeTuple(a), encodeTuple(b)))).toBe(sign(compareTuples(a, b)))
    }), { numRuns: 2000 })
  })

  it('compares strings by UTF-8 bytes, numbers by value and classes in their order', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
      expect(sign(compareValues(a, b))).toBe(sign(Buffer.compare(Buffer.from(a), Buffer.from(b))))
    }), { numRuns: 2000 })
    const ordered = [undefined, null, false, true, -1e300, -1, -0.5, 0, 1e-300, 1, 2 ** 53, '', '\u0000', 'a', '\uffff', '\u{1f600}', {}]
    // Sorted by position (Array.prototype.sort would put undefined last without asking).
    const positions = ordered.map((_, i) => i).reverse().sort((x, y) => compareBytes(encodeTuple([ordered[x]]), encodeTuple([ordered[y]])))
    expect(positions).toEqual(ordered.map((_, i) => i))
    expect(compareBytes(encodeTuple([-0]), encodeTuple([0]))).toBe(0)
  })

  it('decodes what it encodes, and a prefix range holds exactly what starts with it', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ unit: 'binary' })), { maxLength: 4 }), (values) => {
      expect(decodeTuple(encodeTuple(values))).toEqual(values.map((v) => Object.is(v, -0) ? 0 : v))
    }), { numRuns: 1000 })
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.uint8Array({ maxLength: 8 }), (prefix, other) => {
      const end = prefixEnd(prefix)
      const inside = compareBytes(other, prefix) >= 0 && (end === undefined || compareBytes(other, end) < 0)
      expect(inside).toBe(other.length >= prefix.length && prefix.every((b, i) => other[i] === b))
    }), { numRuns: 2000 })
  })

  it('gives cursors that name their sort, and refuses others with InvalidQueryError', () => {
    const byTime = [{ field: 'time', desc: true }, { field: 'key', desc: true }]
    const cursor = encodeCursor(byTime, [1700000000000, 'k1'])
    expect(decodeCursor(byTime, cursor)).toEqual([1700000000000, 'k1'])
    expect(() => decodeCursor([{ field: 'time', desc: false }, { field: 'key', desc: false }], cursor)).toThrow(InvalidQueryError)
    for (const bad of ['', '!!', 'AAAA', encodeCursor(byTime, [1]), `${cursor}x`]) expect(() => decodeCursor(byTime, bad), bad).toThrow(InvalidQueryError)
  })
})
