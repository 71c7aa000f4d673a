import { base58btc } from 'multiformats/bases/base58'
import { PUBLIC_KEY_LENGTH } from './ed25519.js'
import { InvalidDidError } from '../errors.js'

/** A DID string that has been checked once at the edge. */
export type Did = string & { readonly __did: unique symbol }

const DID_KEY_PREFIX = 'did:key:'
// multicodec `ed25519-pub` (0xed) as an unsigned varint
const ED25519_PUB_CODEC = Uint8Array.from([0xed, 0x01])
const MAX_DID_LENGTH = 2048

const keys = new Map<string, Uint8Array>()
const MAX_CACHED = 4096

/**
 * Parse a `did:key` Ed25519 DID into its public key. Throws `InvalidDidError`.
 * Only `did:key` with Ed25519 is supported for now; it is self-certifying, so a replica
 * needs no network to know which key a DID speaks with.
 */
export function publicKeyOfDid (did: string): Uint8Array {
  const cached = keys.get(did)
  if (cached !== undefined) return cached
  if (typeof did !== 'string') throw new InvalidDidError(String(did), 'not a string')
  if (did.length > MAX_DID_LENGTH) throw new InvalidDidError(did, 'too long')
  if (!did.startsWith('did:')) throw new InvalidDidError(did, 'a DID starts with "did:"')
  if (!did.startsWith(DID_KEY_PREFIX)) throw new InvalidDidError(did, 'only did:key DIDs are supported')
  let bytes: Uint8Array
  try {
    bytes = base58btc.decode(did.slice(DID_KEY_PREFIX.length))
  } catch {
    throw new InvalidDidError(did, 'the key is not base58btc multibase (it should start with "z")')
  }
  if (bytes[0] !== ED25519_PUB_CODEC[0] || bytes[1] !== ED25519_PUB_CODEC[1]) {
    throw new InvalidDidError(did, 'the key is not Ed25519')
  }
  if (bytes.length !== ED25519_PUB_CODEC.length + PUBLIC_KEY_LENGTH) {
    throw new InvalidDidError(did, `an Ed25519 key is ${PUBLIC_KEY_LENGTH} bytes`)
  }
  const key = bytes.subarray(ED25519_PUB_CODEC.length)
  if (keys.size >= MAX_CACHED) keys.clear()
  keys.set(did, key)
  return key
}

export function didOfPublicKey (publicKey: Uint8Array): Did {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new InvalidDidError('(raw key)', `an Ed25519 key is ${PUBLIC_KEY_LENGTH} bytes`)
  }
  const bytes = new Uint8Array(ED25519_PUB_CODEC.length + PUBLIC_KEY_LENGTH)
  bytes.set(ED25519_PUB_CODEC)
  bytes.set(publicKey, ED25519_PUB_CODEC.length)
  return `${DID_KEY_PREFIX}${base58btc.encode(bytes)}` as Did
}

const PKH_EIP155 = /^did:pkh:eip155:([1-9][0-9]{0,19}):(0x[0-9a-fA-F]{40})$/

/**
 * An Ethereum account as a DID (`did:pkh:eip155:<chain id>:<address>`, CAIP-10), in its
 * canonical form: the address in lower case. It cannot sign entries itself: a session key
 * it delegated to does (see delegation/).
 */
export function canonicalPkh (did: string): Did | undefined {
  const m = PKH_EIP155.exec(did)
  return m === null ? undefined : `did:pkh:eip155:${m[1]}:${(m[2] as string).toLowerCase()}` as Did
}

/**
 * `Did.parse` throws `InvalidDidError` and returns the canonical form (`did:key` as given,
 * `did:pkh` addresses in lower case); `Did.is` is a type guard; `Did.asDid` returns undefined.
 */
export const Did = {
  parse (did: string): Did {
    if (typeof did === 'string' && did.startsWith('did:pkh:')) {
      const pkh = canonicalPkh(did)
      if (pkh === undefined) throw new InvalidDidError(did, 'a did:pkh must be did:pkh:eip155:<chain id>:<0x + 40 hex digits>')
      return pkh
    }
    publicKeyOfDid(did)
    return did as Did
  },
  is (did: unknown): did is Did {
    return typeof did === 'string' && Did.asDid(did) !== undefined
  },
  asDid (did: string): Did | undefined {
    try {
      return Did.parse(did)
    } catch {
      return undefined
    }
  }
}
