/**
 * Epoch keys and their shares. A share is a JWE (did-jwt, ECDH-ES+XC20PKW to each member's
 * X25519 key) of one epoch key, bound to its database and epoch; a new epoch key also
 * seals the one before it, so a member who holds the newest key can read history.
 */
import { createJWE, decryptJWE, type JWE } from 'did-jwt'
import { base64url } from 'multiformats/bases/base64'
import type { DidKeyIdentity } from '../did/identity.js'
import { DecryptionError } from '../errors.js'
import { associatedData } from './binding.js'
import { decrypterFor, encryptersFor } from './key-agreement.js'
import { open, type Sealed, seal } from './sealed.js'

export interface ShareBinding {
  address: string
  /** The epoch (0 for the share in a policy block), or what a share is for (`next:<epochs>` for a rotation's own key). */
  epoch: number | string
}

const binding = (b: ShareBinding): { address: string, epoch: number | string, record: string } => ({ address: b.address, epoch: b.epoch, record: 'epoch-key' })

/** Wrap `key` for every DID in `members`; each can unwrap it with its own identity alone. */
export async function shareKey (key: Uint8Array, members: readonly string[], at: ShareBinding): Promise<JWE> {
  if (members.length === 0) throw new TypeError('an epoch key is shared with at least one member')
  return createJWE(key, await encryptersFor(members), {}, associatedData('epoch-share', binding(at)))
}

/** The epoch key in `share`, or `DecryptionError` when it is not for `identity` or not for this database and epoch. */
export async function unwrapShare (share: JWE, identity: DidKeyIdentity, at: ShareBinding): Promise<Uint8Array> {
  const expected = associatedData('epoch-share', binding(at))
  // did-jwt authenticates `aad` with the content; this checks it is the binding expected here.
  if (share.aad !== base64url.baseEncode(expected)) {
    throw new DecryptionError(`the key share is not for epoch ${at.epoch} of ${at.address}`)
  }
  try {
    // did-jwt writes into the recipients' headers as it decrypts: give it a copy, never an entry's payload.
    return await decryptJWE(structuredClone(share), decrypterFor(identity))
  } catch (cause) {
    throw new DecryptionError(`the key share is not for ${identity.did}`, { cause })
  }
}

/** Seal the previous epoch key under the next one, so history stays readable to members who join later. */
export function chainKeys (next: Uint8Array, previous: Uint8Array, at: ShareBinding): Sealed {
  return seal(next, previous, binding(at), 'epoch-chain')
}

export function previousKey (next: Uint8Array, chained: Sealed, at: ShareBinding): Uint8Array {
  return open(next, chained, binding(at), 'epoch-chain')
}
