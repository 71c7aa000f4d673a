/**
 * The browser build's Ed25519 (WebCrypto, else @noble/curves) must accept exactly what the
 * Node build (node:crypto) accepts: a signature one replica takes and another refuses would
 * split replicas. Node 22 has WebCrypto Ed25519, so this runs the browser module's
 * WebCrypto path for real; the @noble/curves fallback is checked with the same options.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as browser from '../src/ed25519.browser.js'
import * as node from '../src/ed25519.js'

// The group order L: adding it to a signature's S gives the same point, a malleated copy.
const L = 2n ** 252n + 27742317777372353535851937790883648493n

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
    // The fallback for browsers without WebCrypto Ed25519, with the options the module uses.
    expect(ed25519.verify(signature, data, signer.publicKey, { zip215: false })).toBe(true)
    expect(ed25519.verify(malleated, data, signer.publicKey, { zip215: false })).toBe(false)
  })

  it('refuses a seed of the wrong length with the same error as Node', () => {
    expect(() => browser.signerFromSeed(new Uint8Array(31))).toThrow(expect.objectContaining({ name: 'InvalidKeyError' }))
  })
})
