/** Content-addressed dag-cbor blocks in a Helia blockstore, verified on read. */
import * as dagCbor from '@ipld/dag-cbor'
import * as Block from 'multiformats/block'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { CorruptBlockError } from '../errors.js'

/** The part of Helia's blockstore we use. */
export interface BlockstoreLike {
  put: (cid: CID, bytes: Uint8Array, options?: { signal?: AbortSignal }) => Promise<unknown>
  get: (cid: CID, options?: { signal?: AbortSignal }) => AsyncIterable<Uint8Array> | Promise<Uint8Array>
  /** Whether the block is held locally (Helia's blockstore has it; a bare store may not). */
  has?: (cid: CID) => Promise<boolean> | boolean
  delete?: (cid: CID) => Promise<unknown> | unknown
}

export async function putBlock (blockstore: BlockstoreLike, value: unknown): Promise<CID> {
  const block = await Block.encode({ value, codec: dagCbor, hasher: sha256 })
  await blockstore.put(block.cid, block.bytes)
  return block.cid
}

async function readAll (source: AsyncIterable<Uint8Array> | Promise<Uint8Array>): Promise<Uint8Array> {
  if (source instanceof Promise) return source
  const chunks: Uint8Array[] = []
  let length = 0
  for await (const chunk of source) {
    chunks.push(chunk)
    length += chunk.length
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const out = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/**
 * Read a dag-cbor block and check that its bytes hash to its CID, whichever store or
 * peer it came from. Throws if it cannot be had before `signal` aborts or does not match.
 */
export async function getBlock (blockstore: BlockstoreLike, cid: CID, options: { signal?: AbortSignal } = {}): Promise<unknown> {
  const bytes = await readAll(blockstore.get(cid, options))
  let block: Awaited<ReturnType<typeof Block.create>>
  try {
    block = await Block.create({ bytes, cid, codec: dagCbor, hasher: sha256 })
  } catch (cause) {
    throw new CorruptBlockError(cid.toString(), { cause })
  }
  return block.value
}

export function parseCid (text: string): CID | undefined {
  try {
    return text.startsWith("z") ? CID.parse(text, base58btc) : CID.parse(text)
  } catch {
    return undefined
  }
}
