import { base64url } from 'multiformats/bases/base64'
import { type Did, didOfPublicKey } from './did.js'
import { randomSeed, signerFromSeed } from './ed25519.js'

/** A DID and the key that signs for it. */
export interface DidIdentity {
  readonly did: Did
  /** Raw Ed25519 public key. */
  readonly publicKey: Uint8Array
  sign: (data: Uint8Array) => Promise<Uint8Array>
}

/** A `did:key` identity whose seed can be persisted. Keep the seed secret. */
export interface DidKeyIdentity extends DidIdentity {
  readonly seed: Uint8Array
}

export interface DidKeyInit {
  /** 32 random bytes. Omit to generate a new identity. */
  seed?: Uint8Array
}

/**
 * Create a `did:key` Ed25519 identity, new or from a 32-byte seed.
 *
 * @example
 * ```ts
 * const alice = createDidKeyIdentity()
 * alice.did // 'did:key:z6Mk…'
 * ```
 */
export function createDidKeyIdentity (init: DidKeyInit = {}): DidKeyIdentity {
  const seed = init.seed ?? randomSeed()
  const signer = signerFromSeed(seed)
  return {
    did: didOfPublicKey(signer.publicKey),
    publicKey: signer.publicKey,
    seed: Uint8Array.from(seed),
    sign: signer.sign
  }
}

/** Text form of a seed, for files and environment variables. */
export function encodeSeed (seed: Uint8Array): string {
  return base64url.encode(seed)
}

export function decodeSeed (text: string): Uint8Array {
  return base64url.decode(text.trim())
}
