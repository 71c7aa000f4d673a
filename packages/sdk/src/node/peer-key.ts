/**
 * The node's libp2p key, signing with a key the platform imported once. libp2p's own
 * Ed25519 key imports the private key again (from a JWK, in Node) for every signature, and
 * gossipsub signs every message it publishes: one import per database write.
 */
import { ed25519SignerFromSeed } from '@didbase/access/internal'
import type { PrivateKey } from '@libp2p/interface'

/** `key`, with `sign` served by a signer imported once; other key types are returned as they are. */
export function withImportedSigner (key: PrivateKey): PrivateKey {
  if (key.type !== 'Ed25519') return key
  const signer = ed25519SignerFromSeed(key.raw.subarray(0, 32))
  const fast: PrivateKey = Object.create(key)
  Object.defineProperty(fast, 'sign', {
    value: async (data: Uint8Array | { subarray: () => Uint8Array }) => signer.sign(data instanceof Uint8Array ? data : data.subarray())
  })
  return fast
}
