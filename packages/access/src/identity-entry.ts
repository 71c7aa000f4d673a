/**
 * `@didbase/access/identity`: did:key identities and the key file on their own, without
 * OrbitDB, did-jwt or the access controllers, for code that only needs to know who it is
 * (the `didbase init` and `id` commands load this and nothing networked).
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
} from './identity/identity.js'
export { IDENTITY_FILE, loadOrCreateIdentity } from './identity/keyfile.js'
