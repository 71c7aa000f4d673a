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
 * What only `@didbase/sdk` builds on (operations, blocks, the keys and sealing of private
 * databases) is in `@didbase/access/internal`, which follows the SDK, not semver.
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
export {
  AccessDeniedError,
  CorruptBlockError,
  EntryRejectedError,
  InvalidDelegationError,
  InvalidInviteError,
  InviteExpiredError,
  InvalidPolicyError,
  InvariantError,
  SecretStoreError,
  SessionExpiredError,
  type RejectionReason
} from './errors.js'
export { type OrbitIdentityLayer, orbitIdentityLayer } from './identity/orbit-identity.js'
export { verifyEntry } from './identity/entry.js'
export { didAcl, type DidAclInit, didWriters, type DidWritersInit } from './controller/controller.js'
export { decodeInvite, type InviteClaims } from './invite/invite.js'
export { MAX_BATCH_BYTES, MAX_BATCH_OPS } from './policy/operations.js'
export type { PolicyBlock, PrivateField } from './policy/policy-block.js'
export type { EpochShare, KeyShare } from './policy/share-shape.js'
export { createDeviceIdentity, delegateDevice, type DelegatedIdentity, delegatedIdentity, type DidSessionLike, type Eip1193Provider, fromDidSession, walletSession, type WalletSessionOptions } from './identity/delegated.js'
export type { DeviceDelegationOptions } from './delegation/device.js'
export type { ProofLink } from './delegation/link.js'
export { forgetSession, keepSession, loadSession } from './identity/session-file.js'
