/**
 * Walking dag-cbor bytes header by header, without decoding them and without recursion:
 * where each item ends, and how deeply arrays and maps nest. Two readers need it before
 * anything is decoded: the heads exchange, to cut a stream into whole entries
 * (upstream/heads-stream.ts), and a private database's reader, to refuse nesting deeper
 * than a decoder should recurse (databases/privacy.ts).
 */

/** Bytes that are not dag-cbor: an indefinite length or a reserved header. */
export class CborShapeError extends Error {
  override name = 'CborShapeError'
}

/** One item's header. */
export interface CborHeader {
  /** CBOR major type (0 to 7). */
  major: number
  /** Its argument: a length, a count, or a value; beyond 2^53 only good for comparing with limits. */
  argument: number
  /** Where the header ends, and a byte or text string's bytes with it. */
  end: number
  /** Items nested in it: an array's, twice a map's count, a tag's one. */
  nested: number
}

/**
 * The header at `at` in the first `length` bytes; undefined when its bytes have not all
 * arrived (a string's bytes may still be missing: compare `end` with the length).
 */
export function readHeader (bytes: Uint8Array, at: number, length = bytes.length): CborHeader | undefined {
  if (at >= length) return undefined
  const initial = bytes[at] as number
  const major = initial >> 5
  const info = initial & 31
  if (info > 27) throw new CborShapeError(info === 31 ? 'indefinite lengths are not dag-cbor' : `reserved CBOR header byte ${initial}`)
  const argumentBytes = info < 24 ? 0 : 1 << (info - 24)
  if (at + 1 + argumentBytes > length) return undefined
  let argument = info
  if (info >= 24) {
    argument = 0
    for (let i = 1; i <= argumentBytes; i++) argument = argument * 256 + (bytes[at + i] as number)
  }
  let end = at + 1 + argumentBytes
  let nested = 0
  if (major === 2 || major === 3) end += argument
  else if (major === 4) nested = argument
  else if (major === 5) nested = 2 * argument
  else if (major === 6) nested = 1
  // Majors 0, 1 and 7 (integers, simple values, floats) are whole with their header.
  return { major, argument, end, nested }
}

/**
 * The items still to walk at each open level of one top-level item: tell it each header
 * walked (`walked`), and it says when the item is whole and how deep arrays and maps went.
 */
export class CborLevels {
  /** Items left at each open level, innermost last; the first is the top-level item itself. */
  #open = [1]
  /** Whether each open level is an array or a map (a tag opens a level that adds no depth). */
  #nesting = [false]
  #depth = 0
  #deepest = 0

  /** The top-level item is walked whole. */
  get whole (): boolean {
    return this.#open.length === 0
  }

  /** The deepest nesting of non-empty arrays and maps walked so far. */
  get deepest (): number {
    return this.#deepest
  }

  /** Count an item whose header (and string bytes) were walked, and open what it nests. */
  walked (header: CborHeader): void {
    const open = this.#open
    open[open.length - 1] = (open[open.length - 1] as number) - 1
    if (header.nested > 0) {
      const nesting = header.major === 4 || header.major === 5
      open.push(header.nested)
      this.#nesting.push(nesting)
      if (nesting) this.#deepest = Math.max(this.#deepest, ++this.#depth)
    }
    while (open.length > 0 && open[open.length - 1] === 0) {
      open.pop()
      if (this.#nesting.pop() === true) this.#depth--
    }
  }

  /** Start on the next top-level item. */
  reset (): void {
    this.#open = [1]
    this.#nesting = [false]
    this.#depth = 0
  }
}

/** The deepest nesting of non-empty arrays and maps in `bytes` (every item in them). Throws `CborShapeError`. */
export function nestingOf (bytes: Uint8Array): number {
  const levels = new CborLevels()
  let deepest = 0
  let at = 0
  while (at < bytes.length) {
    const header = readHeader(bytes, at)
    // Cut short: what is there is measured; the decoder refuses the rest.
    if (header === undefined) break
    at = header.end
    levels.walked(header)
    deepest = Math.max(deepest, levels.deepest)
    if (levels.whole) levels.reset()
  }
  return deepest
}
