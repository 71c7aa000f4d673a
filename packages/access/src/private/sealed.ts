/**
 * Values sealed under an epoch key: XChaCha20-Poly1305 (`@noble/ciphers`), a random 24-byte
 * nonce per value (safe with random nonces at any volume a log reaches), and the binding
 * as associated data.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { randomBytes } from '@noble/ciphers/utils.js'
import { DecryptionError } from '../errors.js'
import { associatedData, type Binding } from './binding.js'
import type { Sealed } from '../policy/share-shape.js'

export type { Sealed } from '../policy/share-shape.js'

export const KEY_BYTES = 32
const NONCE_BYTES = 24

/** A new random symmetric key (an epoch key, say). */
export function newKey (): Uint8Array {
  return randomBytes(KEY_BYTES)
}

export function seal (key: Uint8Array, plaintext: Uint8Array, binding: Binding, purpose = 'value'): Sealed {
  const nonce = randomBytes(NONCE_BYTES)
  return { nonce, ciphertext: xchacha20poly1305(key, nonce, associatedData(purpose, binding)).encrypt(plaintext) }
}

/** The plaintext, or `DecryptionError` when the key, the binding or a byte is wrong. */
export function open (key: Uint8Array, sealed: Sealed, binding: Binding, purpose = 'value'): Uint8Array {
  try {
    return xchacha20poly1305(key, sealed.nonce, associatedData(purpose, binding)).decrypt(sealed.ciphertext)
  } catch (cause) {
    throw new DecryptionError(`cannot decrypt ${purpose} of record ${binding.record} (epoch ${binding.epoch} of ${binding.address}): wrong key, moved or changed`, { cause })
  }
}
