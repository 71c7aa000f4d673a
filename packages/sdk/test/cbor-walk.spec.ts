/** The one walk over dag-cbor headers, against a decoder's reading of the same bytes. */
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CborLevels, CborShapeError, nestingOf, readHeader } from '../src/codec/cbor-walk.js'

/** Depth of non-empty arrays and maps, read from the decoded value. */
function depthOf (value: unknown): number {
  if (Array.isArray(value)) return value.length === 0 ? 0 : 1 + Math.max(...value.map(depthOf))
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const values = Object.values(value)
    return values.length === 0 ? 0 : 1 + Math.max(...values.map(depthOf))
  }
  return 0
}

const plain = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 300 }), tie('array'), tie('map')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  map: fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 5 })
})).value

describe('walking dag-cbor headers', () => {
  it('measures the nesting a decoder finds, and ends each item where its encoding ends', () => {
    fc.assert(fc.property(plain, plain, (a, b) => {
      const one = dagCbor.encode(a)
      expect(nestingOf(one)).toBe(depthOf(a))
      // Two items back to back: the walk of the first ends where the second starts.
      const both = new Uint8Array([...one, ...dagCbor.encode(b)])
      const levels = new CborLevels()
      let at = 0
      while (!levels.whole) {
        const header = readHeader(both, at)
        if (header === undefined) throw new Error('cut short')
        at = header.end
        levels.walked(header)
      }
      expect(at).toBe(one.length)
    }), { numRuns: 300 })
  })

  it('says when a header has not all arrived, and refuses what dag-cbor does not allow', () => {
    expect(readHeader(Uint8Array.of(0x5a, 0x00, 0x01), 0)).toBeUndefined()
    expect(readHeader(Uint8Array.of(0x43, 0x01), 0)).toMatchObject({ major: 2, argument: 3, end: 4 })
    expect(() => readHeader(Uint8Array.of(0x9f), 0)).toThrow(CborShapeError)
    expect(() => readHeader(Uint8Array.of(0x1c), 0)).toThrow(/reserved CBOR header/)
  })

  it('walks a thousand levels without recursion', () => {
    const deep = new Uint8Array(1001).fill(0x81)
    deep[1000] = 0x00
    expect(nestingOf(deep)).toBe(1000)
  })
})
