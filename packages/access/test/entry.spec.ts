import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { createDidKeyIdentity, type DidIdentity, EntryRejectedError, verifyEntry } from '../src/index.js'
import { encodeSignature, signedBytes, signerKeyOf } from '../src/identity/entry.js'

async function entry (signer: DidIdentity, claimed = signer.did, payload: unknown = { op: 'PUT', key: 'k', value: 1 }) {
  const fields = { id: '/orbitdb/zdpuTest', payload, next: [], refs: [], clock: { id: signerKeyOf(signer.did), time: 1 }, v: 2 }
  const sig = encodeSignature(await signer.sign(signedBytes(fields)))
  const body = { ...fields, key: signerKeyOf(signer.did), identity: claimed, sig }
  return { ...body, hash: CID.create(1, dagCbor.code, await sha256.digest(dagCbor.encode(body))).toString(base58btc) }
}

async function reasonOf (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'accepted'
  } catch (err) {
    expect(err).toBeInstanceOf(EntryRejectedError)
    return (err as EntryRejectedError).reason
  }
}

describe('verifyEntry', () => {
  it('accepts an entry signed by the key of the DID it names', async () => {
    const alice = createDidKeyIdentity()
    expect(await verifyEntry(await entry(alice))).toBe(alice.did)
  })

  it('binds the signer to the writer: another key claiming the DID is refused', async () => {
    const alice = createDidKeyIdentity()
    const mallory = createDidKeyIdentity()
    expect(await reasonOf(verifyEntry(await entry(mallory, alice.did)))).toBe('signer-mismatch')
  })

  it('refuses changed content, a changed clock and a foreign signature', async () => {
    const alice = createDidKeyIdentity()
    const good = await entry(alice)
    expect(await reasonOf(verifyEntry({ ...good, payload: { op: 'PUT', key: 'k', value: 2 } }))).toBe('bad-signature')
    expect(await reasonOf(verifyEntry({ ...good, clock: { ...good.clock, time: 2 } }))).toBe('bad-signature')
    const other = await entry(alice, alice.did, 'other')
    expect(await reasonOf(verifyEntry({ ...good, sig: other.sig }))).toBe('bad-signature')
    expect(await reasonOf(verifyEntry({ ...good, sig: '!!' }))).toBe('bad-signature')
  })

  it('refuses invalid DIDs and malformed entries without throwing anything else', async () => {
    const alice = createDidKeyIdentity()
    const good = await entry(alice)
    expect(await reasonOf(verifyEntry({ ...good, identity: 'did:web:evil' }))).toBe('invalid-did')
    expect(await reasonOf(verifyEntry({ ...good, next: 'x' }))).toBe('malformed-entry')
    expect(await reasonOf(verifyEntry({ ...good, v: 1 }))).toBe('malformed-entry')
    expect(await reasonOf(verifyEntry(null))).toBe('malformed-entry')
    expect(await reasonOf(verifyEntry(dagCbor.decode(dagCbor.encode('just a string'))))).toBe('malformed-entry')
  })

  it('refuses the same signed entry under another hash: an extra field, a clock naming another key, bytes not canonical', async () => {
    const alice = createDidKeyIdentity()
    const good = await entry(alice)
    expect(await reasonOf(verifyEntry({ ...good, x: 1 }))).toBe('malformed-entry')
    expect(await reasonOf(verifyEntry({ ...good, hash: (await entry(alice, alice.did, 'other')).hash }))).toBe('malformed-entry')
    const otherKey = signerKeyOf(createDidKeyIdentity().did)
    const fields = { id: good.id, payload: good.payload, next: [], refs: [], clock: { id: otherKey, time: 1 }, v: 2 }
    const foreignClock = { ...fields, key: good.key, identity: alice.did, sig: encodeSignature(await alice.sign(signedBytes(fields))) }
    expect(await reasonOf(verifyEntry(foreignClock))).toBe('malformed-entry')
  })
})
