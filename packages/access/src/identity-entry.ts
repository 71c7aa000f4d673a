/**
 * `@didbase/access/identity`: did:key identities, the key file and the names of roles on
 * their own, without OrbitDB, did-jwt or the access controllers, for code that only needs to
 * know who it is (the `didbase init` and `id` commands, and the CLI's argument checks, load
 * this and nothing networked).
 */
export { Did, didOfPublicKey, publicKeyOfDid } from './did/did.js'
export { InvalidDidError, InvalidKeyError } from './errors.js'
export {
  createDidKeyIdentity,
  type DidIdentity,
  type DidKeyIdentity,
  type DidKeyInit,
  decodeSeed,
  encodeSeed
} from './did/identity.js'
export { IDENTITY_FILE, loadOrCreateIdentity } from './identity/keyfile.js'
export { isRole, ROLES, type Role } from './policy/operations.js'
