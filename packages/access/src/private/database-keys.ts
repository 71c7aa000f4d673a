/**
 * The keys of a private database's genesis epoch, as a member opens them from the share in
 * its policy block: one key seals values, one blinds record keys. (A database with an ACL
 * has later epochs too: see keyring.ts.)
 */
import type { DidIdentity } from '../did/identity.js'
import type { PrivateField } from '../policy/policy-block.js'
import { KeyLog } from './key-log.js'
import { Keyring } from './keyring.js'
import { GENESIS_EPOCH } from '../policy/share-shape.js'

export { POLICY_SHARE } from './keyring.js'

export interface DatabaseKeys {
  /** Seals values (with their record keys). */
  sealing: Uint8Array
  /** Blinds record keys, so replicas that are not members judge ownership per record. */
  blinding: Uint8Array
}

/** A member's genesis keys, or `DecryptionError` for an identity that is not a genesis member (or holds no key it can agree with). */
export async function openDatabaseKeys (privacy: PrivateField, identity: DidIdentity): Promise<DatabaseKeys> {
  const ring = new Keyring(identity, POLICY_ADDRESS, privacy, () => noLog)
  return { sealing: await ring.sealingKey([GENESIS_EPOCH]), blinding: await ring.blindingKey() }
}

const noLog = new KeyLog()
const POLICY_ADDRESS = '(policy)'
