/**
 * What any replica can check about a key share without opening it: that it is a JWE as
 * did-jwt makes it, and whom it is wrapped for. Each recipient's `kid` names the DID whose
 * key agreement key it was wrapped to; that is what policies compare with their members.
 * (The wrapping itself only a recipient can check: an admin can always leak a key it holds,
 * so the rule catches shares made for the wrong people, not admins who leak on purpose.)
 */

/** A value sealed under a key, as a chain link carries an earlier epoch's key (`private/sealed.ts` seals and opens it). */
export interface Sealed {
  nonce: Uint8Array
  ciphertext: Uint8Array
}

/** A JWE as did-jwt makes it. */
export interface KeyShare {
  protected: string
  iv: string
  ciphertext: string
  tag: string
  aad?: string
  recipients?: unknown[]
}

/** A key share for one epoch, as grants, shares and invites carry it. */
export interface EpochShare {
  /** The epoch: `'genesis'`, or the hash of the entry that started it. */
  epoch: string
  share: KeyShare
}

/** A new epoch key, as a revocation or `rotate-key` carries it. */
export interface Rekey {
  /** The new key, wrapped to every member that remains. */
  share: KeyShare
  /** The keys of the epochs it follows, each sealed under the new key (so newer keys read history). */
  chain: Sealed[]
}

export const GENESIS_EPOCH = 'genesis'
const MAX_RECIPIENTS = 10_000
const MAX_FIELD = 1 << 20

function isJwe (value: unknown): value is KeyShare {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  for (const field of ['protected', 'iv', 'ciphertext', 'tag'] as const) {
    if (typeof v[field] !== 'string' || (v[field] as string).length > MAX_FIELD) return false
  }
  if (v.aad !== undefined && typeof v.aad !== 'string') return false
  return v.recipients === undefined || (Array.isArray(v.recipients) && v.recipients.length <= MAX_RECIPIENTS)
}

/** The DIDs a share is wrapped for, sorted; or a string saying what is wrong with it. */
export function recipientsOf (value: unknown): string[] | string {
  if (!isJwe(value)) return 'the key share is not a JWE'
  const dids: string[] = []
  for (const r of value.recipients ?? []) {
    const kid = (r as { header?: { kid?: unknown } } | null)?.header?.kid
    if (typeof kid !== 'string' || !kid.includes('#')) return 'a recipient of the key share names no key (kid)'
    dids.push(kid.slice(0, kid.indexOf('#')))
  }
  const unique = [...new Set(dids)].sort()
  if (unique.length === 0) return 'the key share has no recipient'
  if (unique.length !== dids.length) return 'the key share names a recipient twice'
  return unique
}

/** Whether two sorted lists of DIDs are the same. */
export function sameDids (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

/** What is wrong with `value` as a list of epoch shares, or the list. */
export function epochSharesOf (value: unknown): EpochShare[] | string {
  if (!Array.isArray(value) || value.length === 0 || value.length > 64) return 'key shares must be a list of 1 to 64 { epoch, share }'
  for (const item of value) {
    const i = item as Partial<EpochShare> | null
    if (typeof i?.epoch !== 'string' || i.epoch.length === 0 || i.epoch.length > 256 || !isJwe(i.share)) return 'a key share must be { epoch, share: JWE }'
  }
  return value as EpochShare[]
}

export function rekeyOf (value: unknown): Rekey | string {
  const v = value as Partial<Rekey> | null
  if (typeof v !== 'object' || v === null || !isJwe(v.share)) return 'a new key must come with its share (a JWE)'
  if (!Array.isArray(v.chain) || v.chain.length === 0 || v.chain.length > 64) return 'a new key must seal the keys of the epochs it follows (chain)'
  for (const link of v.chain) {
    const l = link as Partial<Sealed> | null
    if (!(l?.nonce instanceof Uint8Array) || !(l.ciphertext instanceof Uint8Array) || l.ciphertext.length > 1024) return 'a chain link must be { nonce, ciphertext } bytes'
  }
  return { share: v.share, chain: v.chain as Sealed[] }
}
