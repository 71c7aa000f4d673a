/**
 * The primitives of private databases: X25519 key agreement from did:key, epoch keys shared
 * as JWEs to member DIDs, values sealed under an epoch key and bound to their place, and
 * blinded record keys. Real keys and real ciphers throughout.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { Resolver } from 'did-resolver'
import KeyDidResolver from 'key-did-resolver'
import { base58btc } from 'multiformats/bases/base58'
import { describe, expect, it } from 'vitest'
import { createDidKeyIdentity, publicKeyOfDid } from '../src/index.js'
import { blindKey } from '../src/private/blind.js'
import { chainKeys, previousKey, shareKey, unwrapShare } from '../src/private/epoch-keys.js'
import { x25519PublicOf, x25519SecretOf } from '../src/private/key-agreement.js'
import { newKey, open, seal } from '../src/private/sealed.js'

const ADDRESS = '/orbitdb/zdpuPrivate'
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('key agreement', () => {
  it('is the keyAgreement key of the DID document that key-did-resolver builds, and agrees both ways', async () => {
    const alice = createDidKeyIdentity()
    const doc = (await new Resolver(KeyDidResolver.getResolver()).resolve(alice.did)).didDocument
    const published = doc?.keyAgreement?.[0] as { publicKeyBase58: string }
    const ours = x25519PublicOf(publicKeyOfDid(alice.did))
    expect(base58btc.baseEncode(ours)).toBe(published.publicKeyBase58)
    // The secret from the seed matches that public key.
    const bob = createDidKeyIdentity()
    const ab = ed25519.utils.toMontgomery(publicKeyOfDid(bob.did))
    expect(x25519.getSharedSecret(x25519SecretOf(alice), ab)).toEqual(x25519.getSharedSecret(x25519SecretOf(bob), ours))
  })
})

describe('epoch key shares', () => {
  it('every member unwraps the key; a non-member learns nothing and gets DecryptionError', async () => {
    const [alice, bob, carol] = [createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity()]
    const key = newKey()
    const share = await shareKey(key, [alice.did, bob.did], { address: ADDRESS, epoch: 1 })
    expect(await unwrapShare(share, alice, { address: ADDRESS, epoch: 1 })).toEqual(key)
    expect(await unwrapShare(share, bob, { address: ADDRESS, epoch: 1 })).toEqual(key)
    await expect(unwrapShare(share, carol, { address: ADDRESS, epoch: 1 })).rejects.toMatchObject({ name: 'DecryptionError' })
    expect(JSON.stringify(share)).not.toContain(Buffer.from(key).toString('base64url'))
  })

  it('a share moved to another epoch or database, or with its binding rewritten, is refused', async () => {
    const alice = createDidKeyIdentity()
    const share = await shareKey(newKey(), [alice.did], { address: ADDRESS, epoch: 1 })
    await expect(unwrapShare(share, alice, { address: ADDRESS, epoch: 2 })).rejects.toMatchObject({ name: 'DecryptionError' })
    await expect(unwrapShare(share, alice, { address: '/orbitdb/zdpuOther', epoch: 1 })).rejects.toMatchObject({ name: 'DecryptionError' })
    // Rewriting the binding to pass the check breaks the authentication instead.
    const other = await shareKey(newKey(), [alice.did], { address: ADDRESS, epoch: 2 })
    await expect(unwrapShare({ ...share, aad: other.aad }, alice, { address: ADDRESS, epoch: 2 })).rejects.toMatchObject({ name: 'DecryptionError' })
  })

  it('a new epoch key opens the one before it, and only for that epoch', () => {
    const [older, newer] = [newKey(), newKey()]
    const chained = chainKeys(newer, older, { address: ADDRESS, epoch: 2 })
    expect(previousKey(newer, chained, { address: ADDRESS, epoch: 2 })).toEqual(older)
    expect(() => previousKey(newer, chained, { address: ADDRESS, epoch: 3 })).toThrow(expect.objectContaining({ name: 'DecryptionError' }))
    expect(() => previousKey(older, chained, { address: ADDRESS, epoch: 2 })).toThrow(expect.objectContaining({ name: 'DecryptionError' }))
  })
})

describe('sealed values', () => {
  const at = { address: ADDRESS, epoch: 1, record: 'blinded-milk' }

  it('open what was sealed; two seals of one value differ', () => {
    const key = newKey()
    const a = seal(key, text('buy milk'), at)
    const b = seal(key, text('buy milk'), at)
    expect(new TextDecoder().decode(open(key, a, at))).toBe('buy milk')
    expect(a.ciphertext).not.toEqual(b.ciphertext)
    expect(Buffer.from(a.ciphertext).includes(Buffer.from('buy milk'))).toBe(false)
  })

  it('refuses a value moved to another record, epoch or database, changed by one bit, or opened with another key', () => {
    const key = newKey()
    const sealed = seal(key, text('buy milk'), at)
    const flipped = { ...sealed, ciphertext: Uint8Array.from(sealed.ciphertext, (b, i) => (i === 0 ? b ^ 1 : b)) }
    for (const attempt of [
      () => open(key, sealed, { ...at, record: 'blinded-bread' }),
      () => open(key, sealed, { ...at, epoch: 2 }),
      () => open(key, sealed, { ...at, address: '/orbitdb/zdpuOther' }),
      () => open(key, flipped, at),
      () => open(newKey(), sealed, at),
      () => open(key, sealed, at, 'epoch-chain')
    ]) {
      expect(attempt).toThrow(expect.objectContaining({ name: 'DecryptionError' }))
    }
  })
})

describe('blinded record keys', () => {
  it('are the same for one key under one blinding key, differ otherwise, and do not contain the key', () => {
    const [k1, k2] = [newKey(), newKey()]
    expect(blindKey(k1, 'milk')).toBe(blindKey(k1, 'milk'))
    expect(blindKey(k1, 'milk')).not.toBe(blindKey(k1, 'bread'))
    expect(blindKey(k1, 'milk')).not.toBe(blindKey(k2, 'milk'))
    expect(blindKey(k1, 'milk')).not.toContain('milk')
  })
})
