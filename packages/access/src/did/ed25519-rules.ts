/**
 * One rule for which Ed25519 signatures count, on every platform. Implementations agree on
 * ordinary signatures but not on edge cases: OpenSSL (Node, Chromium) checks the
 * cofactorless equation and accepts small-order keys; @noble/curves and some WebCrypto
 * implementations check the cofactored one, or refuse small-order keys. A signature one
 * replica accepts and another refuses would split them for good, so before any of them
 * is asked, every replica refuses the cases where they could differ:
 * - a public key or R that is not canonically encoded, or of small order;
 * - a public key with a torsion component (not in the prime-order subgroup);
 * - S not below the group order L.
 * An R with a torsion component is refused by the cofactorless equation, which every
 * verifier used here checks (the pure-JS fallback included: `verifyCofactorless`).
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { sha512 } from '@noble/hashes/sha2.js'

export const SEED_LENGTH = 32
export const PUBLIC_KEY_LENGTH = 32
export const SIGNATURE_LENGTH = 64

/** What both platform builds (ed25519.ts, ed25519.browser.ts) give for a seed. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array
  sign: (data: Uint8Array) => Promise<Uint8Array>
}

const P = 2n ** 255n - 19n
/** The order of the prime-order subgroup. */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n

const SMALL_ORDER = new Set(ED25519_TORSION_SUBGROUP)

function littleEndian (bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number)
  return n
}

function hex (bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

/** y below p, and no "negative zero" x (the sign bit set where x = 0 is checked on decode). */
function canonical (point: Uint8Array): boolean {
  const y = littleEndian(point) & ((1n << 255n) - 1n)
  return y < P
}

// Whether a key is in the prime-order subgroup costs a scalar multiplication: keep answers.
const torsionFree = new Map<string, boolean>()
const MAX_CACHED_KEYS = 4096

function primeOrderKey (publicKey: Uint8Array, id: string): boolean {
  let known = torsionFree.get(id)
  if (known === undefined) {
    try {
      known = ed25519.Point.fromBytes(publicKey).isTorsionFree()
    } catch {
      known = false
    }
    if (torsionFree.size >= MAX_CACHED_KEYS) torsionFree.clear()
    torsionFree.set(id, known)
  }
  return known
}

/** Whether (publicKey, signature) is outside every case where verifiers could disagree. */
export function strictlyAcceptable (publicKey: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  const r = signature.subarray(0, 32)
  if (littleEndian(signature.subarray(32)) >= L) return false
  if (!canonical(r) || SMALL_ORDER.has(hex(r))) return false
  const key = hex(publicKey)
  if (!canonical(publicKey) || SMALL_ORDER.has(key)) return false
  return primeOrderKey(publicKey, key)
}

/** RFC 8032's cofactorless check, as OpenSSL does it; for platforms without native Ed25519. */
export function verifyCofactorless (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const A = ed25519.Point.fromBytes(publicKey)
    const R = ed25519.Point.fromBytes(signature.subarray(0, 32))
    const s = littleEndian(signature.subarray(32))
    if (s >= L) return false
    const digest = sha512(new Uint8Array([...signature.subarray(0, 32), ...publicKey, ...data]))
    const k = littleEndian(digest) % L
    return ed25519.Point.BASE.multiplyUnsafe(s).equals(R.add(A.multiplyUnsafe(k)))
  } catch {
    return false
  }
}
