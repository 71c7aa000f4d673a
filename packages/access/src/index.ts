/**
 * @packageDocumentation
 *
 * DID identities and DID access control for OrbitDB 4.
 *
 * - `did:key` Ed25519 identities, generated or from a seed, persisted with mode 0600.
 * - An OrbitDB identities layer that signs every entry with the DID's own key and binds
 *   the signing key to the writer DID on verification.
 * - Access controllers that every replica builds from the content-addressed manifest: a
 *   fixed writer set, or admins and writers changed by signed operations and invites, with
 *   optional per-record ownership, each entry judged against its own causal past.
 *
 * @example
 * ```ts
 * import { createDidKeyIdentity, Did } from '@didbase/access'
 *
 * const alice = createDidKeyIdentity()
 * Did.is(alice.did) // true
 * ```
 */
/// <reference path="../types/orbitdb-core.d.ts" preserve="true" />
export * from './identity-entry.js'
export { signerFromSeed as ed25519SignerFromSeed, verify as verifyEd25519 } from './did/ed25519.js'
export { forgetCheckedSignatures, verifyEntry } from './identity/entry.js'
/** A block read with a deadline that ends with it (the SDK's entry storage uses it too). */
export { withDeadline } from './policy/fetch.js'
export {
  AccessDeniedError,
  CorruptBlockError,
  EntryRejectedError,
  InvalidInviteError,
  InviteExpiredError,
  InvalidPolicyError,
  DecryptionError,
  InvariantError,
  SecretStoreError,
  type RejectionReason
} from './errors.js'
export { readSecret, writeSecret } from './identity/secret-store.js'
export { type OrbitIdentityLayer, orbitIdentityLayer } from './identity/orbit-identity.js'
export {
  ACCESS_TYPES,
  ACL_TYPE,
  ANYONE,
  type AccessPolicy,
  type DidAccessController,
  type DidAclInit,
  type DidWritersInit,
  type JudgeProgress,
  type KeyShare,
  type PrivateField,
  didAcl,
  didWriters,
  isDidAccessController,
  legacyPolicyAddress,
  loadPolicy,
  type PolicyBlock,
  WRITERS_TYPE
} from './policy/controller.js'
export type { AclState, Genesis } from './policy/acl-state.js'
export { createInvite, type CreateInviteOptions, decodeInvite, type InviteClaims, verifyInvite, type VerifyInviteOptions } from './invite/invite.js'
export { type AclOperation, aclPayload, BATCH_OP, batchPayload, type DataOperation, type DataPayload, dataOperationsOf, dataPayloadsOf, MAX_BATCH_BYTES, MAX_BATCH_OPS, MAX_DEPTH, notPlainData, type Operation, parseOperation } from './policy/operations.js'
export { getBlock, putBlock, type BlockstoreLike } from './policy/blocks.js'
export { type DatabaseKeys, openDatabaseKeys } from './private/database-keys.js'
export { blindKey } from './private/blind.js'
export { open as openSealed, type Sealed, seal } from './private/sealed.js'
export { epochLabel, Keyring } from './private/keyring.js'
export type { KeySources, Successor } from './private/key-log.js'
export { epochField, type SealedValue, sealedEpochs } from './private/sealed-value.js'
export { type EpochShare, GENESIS_EPOCH, type Rekey, recipientsOf } from './private/share-shape.js'
export { holdsKeys, keyExposed, keyHolders, keyRecipients, memberDevices, membersOf, membersWithout, revokedKeys } from './policy/acl-state.js'
export { createDeviceIdentity, delegateDevice, type DelegatedIdentity, delegatedIdentity, type DidSessionLike, type Eip1193Provider, fromDidSession, isDelegated, walletSession, type WalletSessionOptions } from './identity/delegated.js'
export { type Delegation, verifyDelegation } from './delegation/chain.js'
export type { DeviceDelegationOptions } from './delegation/device.js'
export { ANY_DATABASE, MAX_CHAIN, type ProofLink } from './delegation/link.js'
export { InvalidDelegationError, SessionExpiredError } from './errors.js'
export { forgetSession, keepSession, loadSession, SESSION_FILE } from './identity/session-file.js'
export { verifySigned } from './identity/entry.js'
