/**
 * The browser build's Ed25519 (WebCrypto, else a pure-JS cofactorless check) must accept
 * exactly what the Node build (node:crypto) accepts: a signature one replica takes and
 * another refuses would split replicas. Node 22 has WebCrypto Ed25519, so this runs the
 * browser module's WebCrypto path for real; the fallback is checked directly.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { sha512 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as browser from '../src/did/ed25519.browser.js'
import * as node from '../src/did/ed25519.js'
import { L, strictlyAcceptable, verifyCofactorless } from '../src/did/ed25519-rules.js'

const le = (bytes: Uint8Array): bigint => bytes.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n)
const leBytes = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))
const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16))

function malleate (signature: Uint8Array): Uint8Array {
  let s = 0n
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i] as number)
  s += L
  const out = new Uint8Array(signature)
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn)
    s >>= 8n
  }
  return out
}

describe('Ed25519 in browsers and in Node', () => {
  it('derives the same public key from a seed, and each verifies the other\'s signatures', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 256 }), async (seed, data) => {
      const b = browser.signerFromSeed(seed)
      const n = node.signerFromSeed(seed)
      expect(b.publicKey).toEqual(n.publicKey)
      const fromBrowser = await b.sign(data)
      expect(fromBrowser).toEqual(await n.sign(data))
      expect(await node.verify(n.publicKey, data, fromBrowser)).toBe(true)
      expect(await browser.verify(b.publicKey, data, fromBrowser)).toBe(true)
    }), { numRuns: 50 })
  })

  it('both refuse a malleated (non-canonical) signature, a changed message and malformed keys', async () => {
    const signer = browser.signerFromSeed(browser.randomSeed())
    const data = new TextEncoder().encode('entry bytes')
    const signature = await signer.sign(data)
    const malleated = malleate(signature)
    for (const verify of [browser.verify, node.verify]) {
      expect(await verify(signer.publicKey, data, malleated)).toBe(false)
      expect(await verify(signer.publicKey, new TextEncoder().encode('entry bytez'), signature)).toBe(false)
      expect(await verify(signer.publicKey.subarray(1), data, signature)).toBe(false)
      expect(await verify(new Uint8Array(32), data, signature)).toBe(false)
      expect(await verify(signer.publicKey, data, signature.subarray(1))).toBe(false)
    }
    // The fallback for browsers without WebCrypto Ed25519.
    expect(verifyCofactorless(signer.publicKey, data, signature)).toBe(true)
    expect(verifyCofactorless(signer.publicKey, data, malleated)).toBe(false)
  })

  // Signatures on which verifiers disagree. Each is accepted by one of OpenSSL (Node,
  // Chromium) or @noble/curves' cofactored check, so without the shared rule replicas on
  // different platforms would split; with it, every verifier here refuses them all.
  describe('edge cases where verifiers disagree', () => {
    const { Point } = ed25519
    const B = Point.BASE
    const torsion = Point.fromBytes(hexBytes(ED25519_TORSION_SUBGROUP[1] as string))
    const data = new TextEncoder().encode('entry bytes')
    const { scalar: a, pointBytes: A } = ed25519.utils.getExtendedPublicKey(browser.randomSeed())

    const challenge = (R: Uint8Array, key: Uint8Array): bigint => le(sha512(new Uint8Array([...R, ...key, ...data]))) % L
    const sig = (R: Uint8Array, s: bigint): Uint8Array => new Uint8Array([...R, ...leBytes(s)])
    const openssl = (key: Uint8Array, signature: Uint8Array): boolean => {
      const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key])
      return cryptoVerify(null, data, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature)
    }

    async function refusedEverywhere (key: Uint8Array, signature: Uint8Array): Promise<void> {
      expect(await node.verify(key, data, signature)).toBe(false)
      expect(await browser.verify(key, data, signature)).toBe(false)
      expect(verifyCofactorless(key, data, signature) && strictlyAcceptable(key, signature)).toBe(false)
    }

    it('a small-order public key (the identity) with R = B, S = 1: OpenSSL accepts it', async () => {
      const identity = Point.ZERO.toBytes()
      const signature = sig(B.toBytes(), 1n)
      expect(openssl(identity, signature)).toBe(true)
      await refusedEverywhere(identity, signature)
    })

    it('a public key with a torsion component: OpenSSL accepts one signature in eight', async () => {
      const mixed = Point.fromBytes(A).add(torsion).toBytes()
      let signature: Uint8Array | undefined
      for (let r = 1n; signature === undefined; r++) {
        const R = B.multiply(r).toBytes()
        const k = challenge(R, mixed)
        if (k % 8n === 0n) signature = sig(R, (r + k * a) % L)
      }
      expect(openssl(mixed, signature)).toBe(true)
      await refusedEverywhere(mixed, signature)
    })

    it('an R with a torsion component: the cofactored check (@noble/curves) accepts it', async () => {
      const r = 12345n
      const R = B.multiply(r).add(torsion).toBytes()
      const signature = sig(R, (r + challenge(R, A) * a) % L)
      expect(ed25519.verify(signature, data, A)).toBe(true)
      expect(openssl(A, signature)).toBe(false)
      await refusedEverywhere(A, signature)
    })
  })

  it('refuses a seed of the wrong length with the same error as Node', () => {
    expect(() => browser.signerFromSeed(new Uint8Array(31))).toThrow(expect.objectContaining({ name: 'InvalidKeyError' }))
  })
})
