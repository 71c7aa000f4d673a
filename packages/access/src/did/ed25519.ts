/**
 * Ed25519 with the platform's native implementation. The API is async so that the
 * browser build can serve it from WebCrypto with the same signatures.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { type Ed25519Signer, PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH, strictlyAcceptable } from './ed25519-rules.js'
import { InvalidKeyError } from '../errors.js'

// DER headers that wrap a raw 32-byte Ed25519 seed (PKCS#8) or public key (SPKI).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

export { type Ed25519Signer, PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH }

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

export function randomSeed (): Uint8Array {
  return new Uint8Array(randomBytes(SEED_LENGTH))
}

export function signerFromSeed (seed: Uint8Array): Ed25519Signer {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new InvalidKeyError(`an Ed25519 seed must be ${SEED_LENGTH} bytes`)
  }
  const privateKey = createPrivateKey({ key: Buffer.from(concat(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length))
  return {
    publicKey,
    sign: async (data) => new Uint8Array(nodeSign(null, data, privateKey))
  }
}

// Importing a key costs more than verifying with it; writers are few, so keep them.
const publicKeys = new Map<string, KeyObject>()
const MAX_CACHED_KEYS = 4096

function publicKeyObject (publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('base64')
  let key = publicKeys.get(id)
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.from(concat(SPKI_PREFIX, publicKey)), format: 'der', type: 'spki' })
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear()
    publicKeys.set(id, key)
  }
  return key
}

/** Never throws: a malformed key or signature simply does not verify. */
export async function verify (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false
  // The same rule on every platform (ed25519-rules.ts), then OpenSSL's cofactorless check.
  if (!strictlyAcceptable(publicKey, signature)) return false
  try {
    return nodeVerify(null, data, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}
