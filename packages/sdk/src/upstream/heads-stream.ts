/**
 * Whole entries out of OrbitDB's heads exchange, however libp2p chunks them.
 *
 * When peers meet, OrbitDB writes each head's bytes to a stream with no framing, and on the
 * other side decodes every chunk it reads as one entry. libp2p hands over what has arrived,
 * not what was sent: heads that pile up in a busy peer's buffers come as one chunk (the
 * decode fails with "too many terminals"), and a large head can come in pieces. Either way
 * the whole exchange failed, and under load most of them did. Each entry is one dag-cbor
 * item, so its end can be found by walking its headers: streams of that protocol are given
 * to OrbitDB yielding one whole entry at a time. The bytes on the wire stay OrbitDB's.
 *
 * Works around `@orbitdb/core` 4.0.0 `src/sync.js` 146-163: `sendHeads` writes entries
 * unframed and `receiveHeads` decodes each chunk as one entry. Delete when OrbitDB frames
 * its heads exchange.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { type CborHeader, CborLevels, readHeader } from '../codec/cbor-walk.js'
import { MalformedHeadsError } from '../errors.js'

/** OrbitDB's heads exchange protocol: `/orbitdb/heads` followed by the database address. */
const HEADS_PROTOCOL = '/orbitdb/heads/'
/** Largest entry a heads exchange may carry: libp2p's own default read buffer limit. */
export const MAX_HEAD_BYTES = 4 * 1024 * 1024
/** Most heads one exchange may bring: a log has a head per concurrent branch, not thousands. */
export const MAX_HEADS_PER_EXCHANGE = 4096
/** Longest a heads exchange may go without a byte before it is aborted. */
export const EXCHANGE_IDLE_MS = 10_000
/** Longest a whole heads exchange may take. */
export const EXCHANGE_MS = 60_000
/**
 * Heads exchanges one connection may have open at once, per database. OrbitDB registers its
 * handler with libp2p's default (32), and a silent stream holds up to MAX_HEAD_BYTES.
 */
const MAX_INBOUND_EXCHANGES = 4

/**
 * Splits bytes into whole CBOR items. The walk resumes where it stopped, so each header is
 * read once however the bytes are chunked; a string's bytes are skipped, never read.
 */
export class CborItemSplitter {
  #buffer = new Uint8Array(4096)
  #length = 0
  /** Where the current item starts in the buffer. */
  #start = 0
  /** Where its walk stands. */
  #pos = 0
  /** What is left of the current item (codec/cbor-walk.ts). */
  #levels = new CborLevels()

  /** Bytes held that are not yet a whole item. */
  get buffered (): number {
    return this.#length - this.#start
  }

  /** Add bytes; returns every item they complete. Throws MalformedHeadsError. */
  push (chunk: Uint8Array): Uint8Array[] {
    this.#append(chunk)
    const items: Uint8Array[] = []
    while (this.#walk()) {
      items.push(this.#buffer.slice(this.#start, this.#pos))
      this.#start = this.#pos
      this.#levels.reset()
    }
    // Whole items leave once per chunk, not once per item: many small items in one chunk
    // would otherwise move the rest of the buffer again and again.
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#length)
      this.#length -= this.#start
      this.#pos -= this.#start
      this.#start = 0
    }
    if (this.#length > MAX_HEAD_BYTES) throw new MalformedHeadsError(`a head is larger than ${MAX_HEAD_BYTES} bytes`)
    return items
  }

  #append (chunk: Uint8Array): void {
    const needed = this.#length + chunk.byteLength
    if (needed > this.#buffer.byteLength) {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.byteLength * 2))
      grown.set(this.#buffer.subarray(0, this.#length))
      this.#buffer = grown
    }
    this.#buffer.set(chunk, this.#length)
    this.#length = needed
  }

  /** Walk headers until the current item is whole (true) or the bytes run out (false). */
  #walk (): boolean {
    while (!this.#levels.whole) {
      if (!this.#step()) return false
    }
    return true
  }

  /** Walk one header, and a string's bytes; false when they have not all arrived. */
  #step (): boolean {
    const at = this.#pos
    if (at >= this.#length) return false
    // An oplog entry is a dag-cbor map: anything else ends the exchange at its first byte.
    const major = (this.#buffer[at] as number) >> 5
    if (at === this.#start && major !== 5) throw new MalformedHeadsError(`a head must be a dag-cbor map (an oplog entry), not major type ${major}`)
    let header: CborHeader | undefined
    try {
      header = readHeader(this.#buffer, at, this.#length)
    } catch (err) {
      throw new MalformedHeadsError((err as Error).message)
    }
    if (header === undefined) return false
    // Every nested item takes at least a byte, so no count may exceed the size limit either.
    if (header.argument > MAX_HEAD_BYTES && major >= 2 && major <= 5) throw new MalformedHeadsError(`a head is larger than ${MAX_HEAD_BYTES} bytes`)
    if (header.end - this.#start > MAX_HEAD_BYTES) throw new MalformedHeadsError(`a head is larger than ${MAX_HEAD_BYTES} bytes`)
    if (header.end > this.#length) return false
    this.#pos = header.end
    this.#levels.walked(header)
    return true
  }
}

/** Yield whole CBOR items from chunks; throws if the chunks end inside one, or bring too many. */
export async function * wholeItems (chunks: AsyncIterable<{ subarray: () => Uint8Array }>): AsyncGenerator<Uint8Array> {
  const splitter = new CborItemSplitter()
  let count = 0
  for await (const chunk of chunks) {
    for (const item of splitter.push(chunk.subarray())) {
      if (++count > MAX_HEADS_PER_EXCHANGE) throw new MalformedHeadsError(`a heads exchange brought more than ${MAX_HEADS_PER_EXCHANGE} heads`)
      yield item
    }
  }
  if (splitter.buffered > 0) throw new MalformedHeadsError(`the heads exchange ended inside an entry (${splitter.buffered} bytes)`)
}

function isHeadsProtocol (protocols: string | string[]): boolean {
  return (Array.isArray(protocols) ? protocols : [protocols]).some((p) => p.startsWith(HEADS_PROTOCOL))
}

/**
 * Chunks of `stream`, which is aborted once the peer lets `idleMs` pass without a chunk, or
 * has kept this side waiting `wholeMs` in all. Only the time spent waiting for the peer
 * counts: while OrbitDB applies a head (joining its past can take minutes on a catch-up),
 * the clocks stand still. OrbitDB bounds only the dial of an exchange, and runs it in the
 * database's one queue: a peer that accepted an exchange and then said nothing held every
 * later pubsub entry of that database behind it, for good (`@orbitdb/core` 4.0.0
 * `src/sync.js` 195-203).
 */
export async function * withinDeadlines<T> (stream: Pick<Stream, 'abort'>, chunks: AsyncIterable<T>, idleMs = EXCHANGE_IDLE_MS, wholeMs = EXCHANGE_MS): AsyncGenerator<T> {
  const source = chunks[Symbol.asyncIterator]()
  let waited = 0
  while (true) {
    const started = Date.now()
    const left = wholeMs - waited
    const [limit, why] = idleMs <= left ? [idleMs, `the heads exchange sent nothing for ${idleMs} ms`] : [left, `the heads exchange kept this replica waiting longer than ${wholeMs} ms`]
    const timer = setTimeout(() => { stream.abort(new MalformedHeadsError(why)) }, Math.max(0, limit))
    let next: IteratorResult<T>
    try {
      next = await source.next()
    } finally {
      clearTimeout(timer)
      waited += Date.now() - started
    }
    if (next.done === true) return
    yield next.value
  }
}

/** Make the stream yield whole entries to whoever iterates it (OrbitDB's receiveHeads), within the deadlines. */
function framed (stream: Stream): Stream {
  const chunks = stream[Symbol.asyncIterator].bind(stream)
  Object.defineProperty(stream, Symbol.asyncIterator, { value: () => wholeItems(withinDeadlines(stream, { [Symbol.asyncIterator]: chunks })) })
  return stream
}

/**
 * From now on, heads exchange streams this node opens or accepts yield whole entries.
 * OrbitDB reaches libp2p only through `handle` and `dialProtocol`, so those are wrapped on
 * this node's libp2p; every other protocol passes through untouched.
 */
export function frameHeadsExchanges (libp2p: Libp2p): void {
  const handle = libp2p.handle.bind(libp2p)
  const dialProtocol = libp2p.dialProtocol.bind(libp2p)
  libp2p.handle = async (protocols, handler, options) => {
    if (!isHeadsProtocol(protocols)) return handle(protocols, handler, options)
    return handle(protocols, async (stream, connection) => handler(framed(stream), connection), { ...options, maxInboundStreams: MAX_INBOUND_EXCHANGES })
  }
  libp2p.dialProtocol = async (peer, protocols, options) => {
    const stream = await dialProtocol(peer, protocols, options)
    return isHeadsProtocol(protocols) ? framed(stream) : stream
  }
}
