/**
 * X25519 key agreement for `did:key` Ed25519 DIDs, as the did:key method defines it: the
 * DID document's `keyAgreement` key is the Ed25519 key mapped to Curve25519. Recipients
 * are found through the DID document (did-jwt's resolver path); the secret comes from the
 * identity's own seed.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { createAnonDecrypter, type Decrypter, type Encrypter, resolveX25519Encrypters } from 'did-jwt'
import { Resolver } from 'did-resolver'
import KeyDidResolver from 'key-did-resolver'
import type { DidKeyIdentity } from '../did/identity.js'

const resolver = new Resolver(KeyDidResolver.getResolver())

/** The X25519 secret of a did:key identity: its Ed25519 seed mapped to Curve25519. */
export function x25519SecretOf (identity: DidKeyIdentity): Uint8Array {
  return ed25519.utils.toMontgomerySecret(identity.seed)
}

/** The X25519 public key of an Ed25519 public key (the did:key `keyAgreement` key). */
export function x25519PublicOf (ed25519PublicKey: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomery(ed25519PublicKey)
}

/** One encrypter per DID, from its DID document's `keyAgreement` key. */
export async function encryptersFor (dids: readonly string[]): Promise<Encrypter[]> {
  return resolveX25519Encrypters([...dids], resolver)
}

export function decrypterFor (identity: DidKeyIdentity): Decrypter {
  return createAnonDecrypter(x25519SecretOf(identity))
}
