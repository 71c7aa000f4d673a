/**
 * The fast gossipsub message id: equal only for byte-identical messages, so a copy skips
 * the checks and nothing else does.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fastMessageId, messageIdKey } from '../src/upstream/message-id.js'

const bytes = fc.uint8Array({ maxLength: 64 })
const message = fc.record({
  topic: fc.string({ maxLength: 40 }),
  from: fc.option(bytes, { nil: undefined }),
  seqno: fc.option(bytes, { nil: undefined }),
  data: fc.option(bytes, { nil: undefined }),
  signature: fc.option(bytes, { nil: undefined }),
  key: fc.option(bytes, { nil: undefined })
})
const fields = ['from', 'seqno', 'data', 'signature', 'key'] as const

describe('fast message id', () => {
  it('is the same for a copy of a message', () => {
    fc.assert(fc.property(message, (m) => {
      const copy = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v instanceof Uint8Array ? Uint8Array.from(v) : v])) as typeof m
      expect(fastMessageId(copy)).toBe(fastMessageId(m))
    }))
  })

  it('differs when any field differs, the signature alone included', () => {
    fc.assert(fc.property(message, fc.constantFrom(...fields), bytes, (m, field, other) => {
      fc.pre(!equal(m[field], other))
      expect(fastMessageId({ ...m, [field]: other })).not.toBe(fastMessageId(m))
    }))
    const m = { topic: 't', from: new Uint8Array([1]), seqno: new Uint8Array([2]), data: new Uint8Array([3]), signature: new Uint8Array([4]), key: new Uint8Array([5]) }
    expect(fastMessageId({ ...m, topic: 'u' })).not.toBe(fastMessageId(m))
    expect(fastMessageId({ ...m, signature: undefined })).not.toBe(fastMessageId(m))
  })

  it('cannot be matched by moving bytes from one field to the next', () => {
    const a = { topic: 't', data: new Uint8Array([1, 2]), signature: new Uint8Array([3]) }
    const b = { topic: 't', data: new Uint8Array([1]), signature: new Uint8Array([2, 3]) }
    const c = { topic: 't', data: new Uint8Array([]), signature: new Uint8Array([1, 2, 3]) }
    const d = { topic: 't', signature: new Uint8Array([1, 2, 3]) }
    expect(new Set([a, b, c, d].map(fastMessageId)).size).toBe(4)
  })

  it('is the 32 bytes of the digest as 32 characters, made at once (gossipsub keeps one per message seen)', () => {
    expect(fastMessageId({ topic: 't', data: new Uint8Array([1]) })).toHaveLength(32)
  })
})

function equal (a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.byteLength === b.byteLength && a.every((x, i) => x === b[i])
}

describe('message id key', () => {
  it('is one-to-one: two ids share a key only when they are the same bytes', () => {
    fc.assert(fc.property(bytes, bytes, (a, b) => {
      expect(messageIdKey(a) === messageIdKey(b)).toBe(equal(a, b))
      expect(messageIdKey(a)).toHaveLength(a.byteLength)
    }))
  })
})
