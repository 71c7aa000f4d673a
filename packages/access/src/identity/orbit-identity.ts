/**
 * The OrbitDB identities layer for DIDs: entries are signed directly with the DID's
 * Ed25519 key and `entry.identity` is the DID itself, so any replica verifies an entry
 * offline, with no identity block to fetch. A delegated identity signs with its session or
 * device key and claims its user DID; replicas check the delegation (judge/rules.ts).
 */
import type { OrbitIdentities, OrbitIdentity } from '@orbitdb/core'
import { Did } from '../did/did.js'
import { InvariantError } from '../errors.js'
import { encodeSignature, publicKeyOfSignerKey, rememberSignature, signerKeyOf, verifySignature } from './entry.js'
import type { DidIdentity } from '../did/identity.js'
import { isDelegated } from './delegated.js'

const IDENTITY_TYPE = 'did'
const encoder = new TextEncoder()

async function noSigning (): Promise<string> {
  throw new InvariantError('this identity can only verify; it has no signing key')
}

function toOrbitIdentity (did: string, sign: OrbitIdentity['sign'], signer = did): OrbitIdentity {
  return {
    id: did,
    hash: did,
    bytes: encoder.encode(did),
    publicKey: signerKeyOf(signer),
    type: IDENTITY_TYPE,
    // did:key is self-certifying: the DID is the key, nothing else to sign.
    signatures: { id: did, publicKey: did },
    sign,
    verify: verifySignature
  }
}

export interface OrbitIdentityLayer {
  identity: OrbitIdentity
  identities: OrbitIdentities
}

/** Build the `identity` and `identities` options of `createOrbitDB` for a DID. */
export function orbitIdentityLayer (owner: DidIdentity): OrbitIdentityLayer {
  const signer = isDelegated(owner) ? owner.signer.did : owner.did
  const sign: OrbitIdentity['sign'] = async (_identity, data) => {
    const sig = encodeSignature(await owner.sign(data))
    rememberSignature(sig, signerKeyOf(signer), data)
    return sig
  }
  const identity = toOrbitIdentity(owner.did, sign, signer)
  const identities: OrbitIdentities = {
    keystore: { close: async () => {} },
    createIdentity: async () => identity,
    getIdentity: async (hash) => {
      if (hash === identity.hash) return identity
      return Did.is(hash) && hash.startsWith('did:key:') ? toOrbitIdentity(hash, noSigning) : undefined
    },
    verifyIdentity: async (candidate) => {
      if (candidate.id === identity.id && candidate.publicKey === identity.publicKey) return true
      try {
        publicKeyOfSignerKey(candidate.publicKey)
        return Did.is(candidate.id) && signerKeyOf(candidate.id) === candidate.publicKey
      } catch {
        return false
      }
    },
    sign,
    verify: verifySignature
  }
  return { identity, identities }
}
