/**
 * Blinded record keys: HMAC-SHA256 of the key under the database's blinding key, so a
 * replica that is not a member judges ownership per record without learning record keys.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { base64url } from 'multiformats/bases/base64'

export function blindKey (blindingKey: Uint8Array, recordKey: string): string {
  return base64url.baseEncode(hmac(sha256, blindingKey, new TextEncoder().encode(recordKey)))
}
