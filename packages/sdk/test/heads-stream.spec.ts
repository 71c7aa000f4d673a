/**
 * The splitter behind the heads exchange: whole dag-cbor items back, however the bytes are
 * chunked, and a clear refusal of what cannot be an entry.
 */
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { MalformedHeadsError } from '../src/errors.js'
import { CborItemSplitter, MAX_HEAD_BYTES, MAX_HEADS_PER_EXCHANGE, wholeItems, withinDeadlines } from '../src/upstream/heads-stream.js'
import { concat } from 'uint8arrays/concat'

const cid = CID.parse('bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')

/** dag-cbor values: every major type, nesting, floats, CIDs (tag 42). */
const value = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.string(),
    fc.uint8Array({ maxLength: 300 }),
    fc.constant(cid),
    fc.array(tie('node'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 5 })
  )
})).node

// toEqual on typed arrays also compares their underlying buffers: compare the bytes.
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** Cut `bytes` at the given points (sorted, deduplicated, within range). */
function cut (bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  return [0, ...at].map((start, i) => bytes.subarray(start, at[i] ?? bytes.byteLength))
}

describe('CborItemSplitter', () => {
  it('gives back exactly the items sent, however they are chunked', () => {
    // Heads are oplog entries: maps at the top, anything inside.
    const head = fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 6 })
    fc.assert(fc.property(fc.array(head, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (values, points) => {
      const items = values.map((v) => dagCbor.encode(v))
      const splitter = new CborItemSplitter()
      const out = cut(concat(items), points).flatMap((chunk) => splitter.push(chunk))
      expect(out.map(hex)).toEqual(items.map(hex))
      expect(splitter.buffered).toBe(0)
    }), { numRuns: 300 })
  })

  it('keeps an item that has not all arrived, and nothing more', () => {
    const item = dagCbor.encode({ a: [1, 2, 3], b: 'x'.repeat(100) })
    const splitter = new CborItemSplitter()
    expect(splitter.push(item.subarray(0, 50))).toEqual([])
    expect(splitter.buffered).toBe(50)
    expect(splitter.push(item.subarray(50)).map(hex)).toEqual([hex(item)])
  })

  it('refuses a head that is not a map, indefinite lengths and reserved headers', () => {
    expect(() => new CborItemSplitter().push(Uint8Array.of(0x00))).toThrow(/must be a dag-cbor map/)
    expect(() => new CborItemSplitter().push(dagCbor.encode([1, 2]))).toThrow(/must be a dag-cbor map/)
    expect(() => new CborItemSplitter().push(Uint8Array.of(0xbf, 0xff))).toThrow(/indefinite lengths/)
    // { "a": <reserved header> }
    expect(() => new CborItemSplitter().push(Uint8Array.of(0xa1, 0x61, 0x61, 0x1c))).toThrow(/reserved CBOR header/)
  })

  it('splits many small heads in one chunk', () => {
    const heads = 100_000
    const splitter = new CborItemSplitter()
    const out = splitter.push(new Uint8Array(heads).fill(0xa0))
    expect(out).toHaveLength(heads)
    expect(splitter.buffered).toBe(0)
  })

  it('refuses an item larger than the limit as soon as its header says so', () => {
    // A byte string claiming 2^32 bytes, and a map claiming 2^40 entries: refused on their
    // headers, without waiting for (or buffering) what they announce.
    expect(() => new CborItemSplitter().push(Uint8Array.of(0xa1, 0x61, 0x61, 0x5a, 0xff, 0xff, 0xff, 0xff))).toThrow(/larger than/)
    expect(() => new CborItemSplitter().push(Uint8Array.of(0xbb, 0, 0, 1, 0, 0, 0, 0, 0))).toThrow(MalformedHeadsError)
  })

  it('refuses more buffered bytes than the limit, however they are nested', () => {
    const splitter = new CborItemSplitter()
    // A map of 2^21 entries (each at least two bytes), sent 1 MiB at a time: its header
    // passes, but it cannot be whole within the limit.
    splitter.push(Uint8Array.of(0xba, 0x00, 0x20, 0, 0))
    const ones = new Uint8Array(2 ** 20).fill(1)
    expect(() => { for (let i = 0; i <= MAX_HEAD_BYTES / ones.byteLength; i++) splitter.push(ones) }).toThrow(/larger than/)
  })

  it(`wholeItems refuses an exchange of more than ${MAX_HEADS_PER_EXCHANGE} heads`, async () => {
    async function * chunks (): AsyncGenerator<Uint8Array> { yield new Uint8Array(MAX_HEADS_PER_EXCHANGE + 1).fill(0xa0) }
    let yielded = 0
    await expect(async () => { for await (const _ of wholeItems(chunks())) yielded++ }).rejects.toThrow(/more than 4096 heads/)
    expect(yielded).toBe(MAX_HEADS_PER_EXCHANGE)
  })

  it('wholeItems fails when the stream ends inside an item', async () => {
    const item = dagCbor.encode({ a: 1 })
    async function * chunks (): AsyncGenerator<Uint8Array> { yield item.subarray(0, 3) }
    await expect(async () => { for await (const _ of wholeItems(chunks())) { /* nothing whole */ } }).rejects.toThrow(/ended inside an entry/)
  })
})

/** A stream that sends `sent`, then says nothing until it is aborted, as a hostile peer's exchange would. */
function silentAfter (sent: Uint8Array[]): { stream: { abort: (err: Error) => void }, aborted: Promise<Error>, chunks: AsyncIterable<Uint8Array> } {
  let fail: (err: Error) => void = () => {}
  let told: (err: Error) => void = () => {}
  const aborted = new Promise<Error>((resolve) => { told = resolve })
  const stalled = new Promise<never>((_resolve, reject) => { fail = reject })
  return {
    stream: { abort: (err) => { told(err); fail(err) } },
    aborted,
    chunks: (async function * () {
      yield * sent
      await stalled
    })()
  }
}

describe('withinDeadlines', () => {
  it('aborts an exchange that goes silent, with a MalformedHeadsError, after what it sent', async () => {
    const { stream, aborted, chunks } = silentAfter([new Uint8Array([1])])
    const got: Uint8Array[] = []
    const reading = (async () => { for await (const chunk of withinDeadlines(stream, chunks, 50, 60_000)) got.push(chunk) })()
    await expect(aborted).resolves.toMatchObject({ name: 'MalformedHeadsError', message: expect.stringContaining('sent nothing for 50 ms') })
    await expect(reading).rejects.toMatchObject({ name: 'MalformedHeadsError' })
    expect(got).toHaveLength(1)
  })

  it('aborts an exchange that keeps this side waiting past its whole deadline', async () => {
    let stop = false
    const aborted = new Promise<Error>((resolve) => {
      const stream = { abort: (err: Error) => { stop = true; resolve(err) } }
      const trickle = (async function * () {
        while (!stop) {
          yield new Uint8Array([0])
          await new Promise((r) => setTimeout(r, 5))
        }
      })()
      void (async () => { for await (const _ of withinDeadlines(stream, trickle, 1_000, 100)) { /* read on */ } })()
    })
    await expect(aborted).resolves.toMatchObject({ message: expect.stringContaining('waiting longer than 100 ms') })
  })

  it('does not count the time this side spends applying what arrived', async () => {
    const stream = { abort: (): void => { throw new Error('aborted while this side was busy') } }
    const got: number[] = []
    for await (const chunk of withinDeadlines(stream, (async function * () { yield 1; yield 2 })(), 30, 60)) {
      got.push(chunk)
      // The consumer (OrbitDB joining a head's past) takes longer than both deadlines.
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(got).toEqual([1, 2])
  })

  it('leaves a stream that ends in time alone', async () => {
    const stream = { abort: (): void => { throw new Error('aborted an exchange that ended in time') } }
    const got: number[] = []
    for await (const chunk of withinDeadlines(stream, (async function * () { yield 1; yield 2 })(), 50, 100)) got.push(chunk)
    expect(got).toEqual([1, 2])
  })
})
