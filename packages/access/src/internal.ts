/**
 * `@didbase/access/internal`: what `@didbase/sdk` builds on beyond the public entry point:
 * the controller's face to the SDK, operations and blocks, the keys and sealing of private
 * databases, and a few helpers (the repository's own tests and bench use them too). Not
 * for applications: it changes with the SDK, whatever the version says.
 */
export { DecryptionError } from './errors.js'
export { signerFromSeed as ed25519SignerFromSeed } from './did/ed25519.js'
export { forgetCheckedSignatures } from './identity/entry.js'
export { readSecret, writeSecret } from './identity/secret-store.js'
export { isDelegated } from './identity/delegated.js'
export { type AccessPolicy, isDidAccessController, legacyPolicyAddress } from './controller/controller.js'
export { loadPolicy, withDeadline } from './controller/fetch.js'
export { ACCESS_TYPES, ACL_TYPE, ANYONE } from './policy/policy-block.js'
export { type AclState, membersOf } from './policy/acl-state.js'
export { aclPayload, BATCH_OP, batchPayload, type DataPayload, dataPayloadsOf, MAX_DEPTH, notPlainData } from './policy/operations.js'
export { type BlockstoreLike, getBlock } from './policy/blocks.js'
export { GENESIS_EPOCH } from './policy/share-shape.js'
export { createInvite } from './invite/invite.js'
export { openDatabaseKeys } from './private/database-keys.js'
export { blindKey } from './private/blind.js'
export { open as openSealed, seal } from './private/sealed.js'
export { epochLabel, Keyring } from './private/keyring.js'
export { epochField, type SealedValue, sealedEpochs } from './private/sealed-value.js'
export { holdsKeys, keyExposed, keyHolders, keyRecipients, membersWithout } from './private/key-holders.js'
