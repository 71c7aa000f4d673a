/**
 * Signing and verifying OrbitDB oplog entries.
 *
 * An entry carries `identity` (the writer DID), `key` (the signer's key, as the multibase
 * part of a did:key) and `sig`. The signature must verify with `key`. Either `key` is the
 * key of `identity` (a DID signing for itself), or the entry is **delegated**: `identity` is
 * a user DID (a root did:key, or a did:pkh wallet account) and `key` a session or device key
 * whose delegation the judge finds in the entry's causal past (see delegation/). OrbitDB
 * alone checks neither binding.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { base64url } from 'multiformats/bases/base64'
import { Did, publicKeyOfDid } from '../did/did.js'
import { verify as ed25519Verify } from '../did/ed25519.js'
import { EntryRejectedError } from '../errors.js'
import { equals } from 'uint8arrays/equals'
import { sha256 } from '@noble/hashes/sha2.js'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 as sha256Hasher } from 'multiformats/hashes/sha2'

const DID_KEY_PREFIX = 'did:key:'

/** The fields of an entry that its signature covers, in OrbitDB 4's order. */
export interface SignedEntryFields {
  id: string
  payload: unknown
  next: string[]
  refs: string[]
  clock: { id: string, time: number }
  v: number
}

export interface EntryLike extends SignedEntryFields {
  key: string
  identity: string
  sig: string
  hash?: string
}

export function signerKeyOf (did: string): string {
  return did.slice(DID_KEY_PREFIX.length)
}

export function publicKeyOfSignerKey (key: string): Uint8Array {
  return publicKeyOfDid(`${DID_KEY_PREFIX}${key}`)
}

export function encodeSignature (sig: Uint8Array): string {
  return base64url.baseEncode(sig)
}

function decodeSignature (sig: string): Uint8Array | undefined {
  try {
    return base64url.baseDecode(sig)
  } catch {
    return undefined
  }
}

/**
 * Signatures this process made or already checked, with the bytes they cover. OrbitDB
 * verifies every entry again after our access check; this keeps that second check cheap.
 * Bounded in count and in bytes: an entry over REMEMBER_AT_MOST is not remembered (checking
 * it again costs about what comparing its bytes would), so a flood of large entries cannot
 * make this hold their bytes.
 */
const checked = new Map<string, { key: string, bytes: Uint8Array }>()
const MAX_CHECKED = 8192
const MAX_CHECKED_BYTES = 16 * 1024 * 1024
const REMEMBER_AT_MOST = 64 * 1024
let checkedBytes = 0

/** Forget every remembered signature, so the next checks verify for real (benchmarks, tests). */
export function forgetCheckedSignatures (): void {
  checked.clear()
  checkedBytes = 0
}

export function rememberSignature (sig: string, key: string, bytes: Uint8Array): void {
  if (bytes.byteLength > REMEMBER_AT_MOST || checked.has(sig)) return
  while (checked.size > 0 && (checked.size >= MAX_CHECKED || checkedBytes + bytes.byteLength > MAX_CHECKED_BYTES)) {
    const [oldest, { bytes: dropped }] = checked.entries().next().value as [string, { bytes: Uint8Array }]
    checked.delete(oldest)
    checkedBytes -= dropped.byteLength
  }
  // A copy: a view into a larger buffer (a decoded message) would keep all of it alive.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
  checked.set(sig, { key, bytes: own })
  checkedBytes += own.byteLength
}

/** How many signatures are remembered and the bytes they hold (for tests of the bound). */
export function checkedSignatures (): { count: number, bytes: number } {
  return { count: checked.size, bytes: checkedBytes }
}

/** Verify `sig` over `bytes` with a signer key string. Never throws. */
export async function verifySignature (sig: string, key: string, bytes: Uint8Array): Promise<boolean> {
  if (typeof sig !== 'string' || typeof key !== 'string') return false
  const known = checked.get(sig)
  if (known !== undefined && known.key === key && equals(known.bytes, bytes)) return true
  const signature = decodeSignature(sig)
  if (signature === undefined) return false
  let publicKey: Uint8Array
  try {
    publicKey = publicKeyOfSignerKey(key)
  } catch {
    return false
  }
  const ok = await ed25519Verify(publicKey, bytes, signature)
  if (ok) rememberSignature(sig, key, bytes)
  return ok
}

export function signedBytes (entry: SignedEntryFields): Uint8Array {
  return dagCbor.encode({
    id: entry.id,
    payload: entry.payload,
    next: entry.next,
    refs: entry.refs,
    clock: entry.clock,
    v: entry.v
  })
}

/** The fields an entry is made of: OrbitDB 4 writes these and nothing else. */
const ENTRY_FIELDS = new Set(['id', 'payload', 'next', 'refs', 'clock', 'v', 'key', 'identity', 'sig'])
/** Fields a decoded entry carries beside them, added by whoever decoded it, never hashed. */
const LOCAL_FIELDS = new Set(['hash', 'bytes'])

/** Entry hashes already found canonical, so an entry judged twice is hashed once. */
const canonical = new Set<string>()
const MAX_CANONICAL = 8192

/**
 * Why an entry is not exactly what its hash names, if it is not: an unsigned field beside
 * the signed ones, a clock naming another key than the signer's, or bytes that are not the
 * canonical encoding. Each would give one signed entry many hashes (many copies of one grant).
 */
function uncanonical (entry: EntryLike & Record<string, unknown>, hash: string | undefined): string | undefined {
  const extra = Object.keys(entry).find((k) => !ENTRY_FIELDS.has(k) && !LOCAL_FIELDS.has(k))
  if (extra !== undefined) return `carries a field no entry has (${JSON.stringify(extra.slice(0, 40))})`
  if (Object.keys(entry.clock).some((k) => k !== 'id' && k !== 'time')) return 'its clock carries a field no clock has'
  if (entry.clock.id !== entry.key) return 'its clock names another key than the one that signed it'
  if (hash === undefined || canonical.has(hash)) return undefined
  const { id, payload, next, refs, clock, v, key, identity, sig } = entry
  const bytes = dagCbor.encode({ id, payload, next, refs, clock: { id: clock.id, time: clock.time }, v, key, identity, sig })
  const cid = CID.create(1, dagCbor.code, Digest.create(sha256Hasher.code, sha256(bytes)))
  if (cid.toString(base58btc) !== hash) return 'its bytes are not the canonical encoding of its fields'
  if (canonical.size >= MAX_CANONICAL) canonical.delete(canonical.values().next().value as string)
  canonical.add(hash)
  return undefined
}

function isStringArray (value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
}

function isEntryLike (value: unknown): value is EntryLike {
  if (typeof value !== 'object' || value === null) return false
  const e = value as Record<string, unknown>
  const clock = e.clock as Record<string, unknown> | undefined
  return typeof e.id === 'string' &&
    typeof e.key === 'string' &&
    typeof e.identity === 'string' &&
    typeof e.sig === 'string' &&
    e.payload !== undefined &&
    isStringArray(e.next) &&
    isStringArray(e.refs) &&
    typeof clock === 'object' && clock !== null &&
    typeof clock.id === 'string' && typeof clock.time === 'number' &&
    e.v === 2
}

/** Who an entry's signature speaks for. */
export interface Signed {
  /** The DID the entry claims as its writer (`identity`). */
  did: string
  /** The did:key whose key signed it: `did` itself, or a key `did` delegated to. */
  signer: string
  delegated: boolean
}

/**
 * Check that an entry is well formed, names a valid DID, and that its signature covers its
 * content, made with `key`. A delegated entry is returned as such: only the judge, which
 * has the entry's past, can tell whether its delegation holds. Throws `EntryRejectedError`.
 */
export async function verifySigned (entry: unknown): Promise<Signed> {
  const hash = typeof (entry as { hash?: unknown })?.hash === 'string' ? (entry as { hash: string }).hash : '(unhashed)'
  if (!isEntryLike(entry)) {
    const claimed = (entry as { identity?: unknown })?.identity
    throw new EntryRejectedError(hash, typeof claimed === 'string' ? claimed : '(none)', 'malformed-entry', 'not an OrbitDB v2 entry')
  }
  const did = entry.identity
  let didKey: Uint8Array | undefined
  try {
    if (Did.parse(did) !== did) throw new TypeError('a did:pkh address is written in lower case')
    didKey = did.startsWith(DID_KEY_PREFIX) ? publicKeyOfDid(did) : undefined
  } catch (err) {
    throw new EntryRejectedError(hash, did, 'invalid-did', (err as Error).message)
  }
  let signerKey: Uint8Array
  try {
    signerKey = publicKeyOfSignerKey(entry.key)
  } catch {
    throw new EntryRejectedError(hash, did, 'signer-mismatch', 'the signing key is not an Ed25519 key')
  }
  await checkSignature(entry, hash, did)
  // After the signature: what is signed is checked first, then that nothing else came with it.
  let shape: string | undefined
  try {
    shape = uncanonical(entry as EntryLike & Record<string, unknown>, hash === '(unhashed)' ? undefined : hash)
  } catch (err) {
    shape = `content is not dag-cbor: ${(err as Error).message}`
  }
  if (shape !== undefined) throw new EntryRejectedError(hash, did, 'malformed-entry', shape)
  const delegated = didKey === undefined || !equals(didKey, signerKey)
  return { did, signer: delegated ? `${DID_KEY_PREFIX}${entry.key}` : did, delegated }
}

/**
 * Check that an entry is well formed, names a valid DID, is signed by that DID's own key,
 * and that the signature covers its content. Returns the writer DID or throws
 * `EntryRejectedError` (`signer-mismatch` for a delegated entry: see `verifySigned`).
 */
export async function verifyEntry (entry: unknown): Promise<string> {
  const signed = await verifySigned(entry)
  if (signed.delegated) {
    const hash = (entry as { hash?: string }).hash ?? '(unhashed)'
    throw new EntryRejectedError(hash, signed.did, 'signer-mismatch', 'the entry is signed by a key that is not the key of the DID it claims')
  }
  return signed.did
}

async function checkSignature (entry: EntryLike, hash: string, did: string): Promise<void> {
  let bytes: Uint8Array
  try {
    bytes = signedBytes(entry)
  } catch (err) {
    throw new EntryRejectedError(hash, did, 'malformed-entry', `content is not dag-cbor: ${(err as Error).message}`)
  }
  if (!(await verifySignature(entry.sig, entry.key, bytes))) {
    throw new EntryRejectedError(hash, did, 'bad-signature', 'the signature does not verify with the writer\'s key')
  }
}
