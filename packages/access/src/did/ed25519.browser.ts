/**
 * Ed25519 in browsers: WebCrypto where the browser has Ed25519 (Chromium 137+, Firefox
 * 129+, Safari 17+), else @noble/curves' audited arithmetic. Same API as
 * the Node build (ed25519.ts); the `browser` field of package.json swaps it in for bundlers.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { type Ed25519Signer, PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH, strictlyAcceptable, verifyCofactorless } from './ed25519-rules.js'
import { InvalidKeyError } from '../errors.js'

export { type Ed25519Signer, PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH }

const ED25519 = { name: 'Ed25519' } as const

/** Whether this browser's WebCrypto does Ed25519; asked once. */
const webCryptoHasEd25519: Promise<boolean> = (async () => {
  try {
    await globalThis.crypto.subtle.generateKey(ED25519, false, ['sign', 'verify'])
    return true
  } catch {
    return false
  }
})()

/** WebCrypto wants its own ArrayBuffer, not a view into a larger or shared one. */
function own (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes)
}

function base64url (bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

export function randomSeed (): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(SEED_LENGTH))
}

export function signerFromSeed (seed: Uint8Array): Ed25519Signer {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new InvalidKeyError(`an Ed25519 seed must be ${SEED_LENGTH} bytes`)
  }
  const secret = own(seed)
  const publicKey = ed25519.getPublicKey(secret)
  // Imported once, on first use, and not extractable: page scripts cannot read it back.
  let key: Promise<CryptoKey | undefined> | undefined
  const importKey = async (): Promise<CryptoKey | undefined> => {
    if (!(await webCryptoHasEd25519)) return undefined
    const jwk: JsonWebKey = { kty: 'OKP', crv: 'Ed25519', d: base64url(secret), x: base64url(publicKey) }
    return globalThis.crypto.subtle.importKey('jwk', jwk, ED25519, false, ['sign'])
  }
  return {
    publicKey,
    sign: async (data) => {
      key ??= importKey()
      const cryptoKey = await key
      if (cryptoKey === undefined) return ed25519.sign(data, secret)
      return new Uint8Array(await globalThis.crypto.subtle.sign(ED25519, cryptoKey, own(data)))
    }
  }
}

// Importing a key costs more than verifying with it; writers are few, so keep them.
const publicKeys = new Map<string, Promise<CryptoKey>>()
const MAX_CACHED_KEYS = 4096

async function publicCryptoKey (publicKey: Uint8Array): Promise<CryptoKey> {
  const id = base64url(publicKey)
  let key = publicKeys.get(id)
  if (key === undefined) {
    key = globalThis.crypto.subtle.importKey('raw', own(publicKey), ED25519, false, ['verify'])
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear()
    publicKeys.set(id, key)
    // A key that does not import is dropped, so it is not kept as a failure.
    key.catch(() => publicKeys.delete(id))
  }
  return key
}

/** Never throws: a malformed key or signature simply does not verify. */
export async function verify (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false
  // The same rule on every platform (ed25519-rules.ts); then WebCrypto, or the same
  // cofactorless check as Node's OpenSSL where the browser has no Ed25519.
  if (!strictlyAcceptable(publicKey, signature)) return false
  try {
    if (!(await webCryptoHasEd25519)) return verifyCofactorless(publicKey, data, signature)
    return await globalThis.crypto.subtle.verify(ED25519, await publicCryptoKey(publicKey), own(signature), own(data))
  } catch {
    return false
  }
}
