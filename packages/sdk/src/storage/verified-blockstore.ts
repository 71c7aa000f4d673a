/**
 * A block store that checks each block against its CID when it is read. Helia checks
 * blocks it fetches from peers, not blocks it reads from its own store, so a block damaged
 * on disk (one flipped bit) would be used here and served to peers. Here it is refused with
 * `CorruptBlockError` instead, on every read: by this node, and by peers asking for it.
 */
import { CorruptBlockError } from '@didbase/access'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore, Pair } from 'interface-blockstore'
import type { AbortOptions, AwaitIterable } from 'interface-store'
import type { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { concat } from 'uint8arrays/concat'
import { equals } from 'uint8arrays/equals'

async function collect (chunks: AwaitIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return parts.length === 1 ? parts[0] as Uint8Array : concat(parts)
}

/** Throw `CorruptBlockError` unless `bytes` hash to `cid` (sha2-256: the only hash didbase writes). */
async function check (cid: CID, bytes: Uint8Array): Promise<Uint8Array> {
  if (cid.multihash.code !== sha256.code) return bytes
  if (!equals((await sha256.digest(bytes)).digest, cid.multihash.digest)) throw new CorruptBlockError(cid.toString())
  return bytes
}

export class VerifiedBlockstore extends BaseBlockstore {
  readonly #child: Blockstore

  constructor (child: Blockstore) {
    super()
    this.#child = child
  }

  override async has (key: CID, options?: AbortOptions): Promise<boolean> {
    return this.#child.has(key, options)
  }

  override async put (key: CID, val: Uint8Array | AwaitIterable<Uint8Array>, options?: AbortOptions): Promise<CID> {
    return this.#child.put(key, val, options)
  }

  override async * get (key: CID, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    yield await check(key, await collect(this.#child.get(key, options)))
  }

  override async delete (key: CID, options?: AbortOptions): Promise<void> {
    await this.#child.delete(key, options)
  }

  override async * getAll (options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const { cid, bytes } of this.#child.getAll(options)) {
      yield { cid, bytes: (async function * () { yield await check(cid, await collect(bytes)) })() }
    }
  }
}
