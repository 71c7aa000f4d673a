/** Structural checks of an entry's links, before anything they name is loaded. */
import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

export const MAX_LINKS = 1024

interface Linked { next: unknown, refs: unknown }

/** Entry hashes are base58btc CIDv1, dag-cbor, sha2-256: one spelling per entry, so no aliases. */
export function isCanonicalHash (hash: unknown): hash is string {
  if (typeof hash !== 'string' || hash.length > 128) return false
  try {
    const cid = CID.parse(hash, base58btc)
    return cid.version === 1 && cid.code === dagCbor.code && cid.multihash.code === sha256.code && cid.toString(base58btc) === hash
  } catch {
    return false
  }
}

/** What is wrong with an entry's links, if anything. `known` hashes were checked before. */
export function badLinks (entry: { next: string[], refs: string[] }, known: (hash: string) => boolean): string | undefined {
  const links = [...entry.next, ...entry.refs]
  if (links.length > MAX_LINKS) return `links to ${links.length} entries (at most ${MAX_LINKS})`
  const bad = links.find((h) => !(typeof h === 'string' && known(h)) && !isCanonicalHash(h))
  return bad === undefined ? undefined : `links to ${JSON.stringify(String(bad).slice(0, 80))}, which is not an entry hash`
}

/** The links worth loading: unknown ones, spelled canonically. */
export function linksOf (entry: Linked, known: (hash: string) => boolean): string[] {
  if (!Array.isArray(entry.next) || !Array.isArray(entry.refs)) return []
  const links: unknown[] = [...entry.next, ...entry.refs]
  return links.length > MAX_LINKS ? [] : links.filter((h): h is string => !(typeof h === 'string' && known(h)) && isCanonicalHash(h))
}
