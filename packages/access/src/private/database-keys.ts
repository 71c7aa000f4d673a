/**
 * The keys of a private database, as a member opens them: the database key from the share
 * in its policy block, and from it one key to seal values and one to blind record keys.
 */
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { DidIdentity, DidKeyIdentity } from '../identity/identity.js'
import { DecryptionError } from '../errors.js'
import type { PrivateField } from '../policy/policy-block.js'
import { unwrapShare } from './epoch-keys.js'

/** Where the key share in a private database's policy block is bound (the address does not exist yet when it is made). */
export const POLICY_SHARE = { address: '(policy)', epoch: 0 }

const INFO_SEAL = new TextEncoder().encode('didbase/private/seal/1')
const INFO_BLIND = new TextEncoder().encode('didbase/private/blind/1')

export interface DatabaseKeys {
  /** Seals values (with their record keys). */
  sealing: Uint8Array
  /** Blinds record keys, so replicas that are not members judge ownership per record. */
  blinding: Uint8Array
}

/** A member's keys, or `DecryptionError` for an identity that is not a member (or holds no key it can agree with). */
export async function openDatabaseKeys (privacy: PrivateField, identity: DidIdentity): Promise<DatabaseKeys> {
  const seed = (identity as Partial<DidKeyIdentity>).seed
  if (!(seed instanceof Uint8Array)) throw new DecryptionError(`${identity.did} holds no did:key seed, so it cannot open the database key`)
  const key = await unwrapShare(privacy.share as never, identity as DidKeyIdentity, POLICY_SHARE)
  return {
    sealing: hkdf(sha256, key, undefined, INFO_SEAL, 32),
    blinding: hkdf(sha256, key, undefined, INFO_BLIND, 32)
  }
}
