/**
 * A sealed value as a private database stores it in an entry: what any replica checks
 * (its shape, and that it names the epochs current in the entry's causal past) without
 * being able to open it.
 */
import { GENESIS_EPOCH } from './share-shape.js'

export interface SealedValue {
  v: 1
  nonce: Uint8Array
  ciphertext: Uint8Array
  /** The epochs whose keys seal it, sorted; left out for the genesis epoch (as before epochs existed). */
  e?: string[]
}

const NONCE_BYTES = 24
const MAX_EPOCHS = 64

/** The epochs `value` says it is sealed under, or a string saying why it is not a sealed value. */
export function sealedEpochs (value: unknown): string[] | string {
  const v = value as Partial<SealedValue> | null
  if (typeof v !== 'object' || v === null || v.v !== 1 || !(v.nonce instanceof Uint8Array) || v.nonce.length !== NONCE_BYTES || !(v.ciphertext instanceof Uint8Array)) {
    return 'a private database holds sealed values only ({ v: 1, nonce, ciphertext })'
  }
  if (v.e === undefined) return [GENESIS_EPOCH]
  if (!Array.isArray(v.e) || v.e.length === 0 || v.e.length > MAX_EPOCHS || v.e.some((e) => typeof e !== 'string' || e === GENESIS_EPOCH)) {
    return 'a sealed value names its epochs as a list of entry hashes'
  }
  return v.e
}

/** The `e` field for values sealed under `epochs`. */
export function epochField (epochs: readonly string[]): { e?: string[] } {
  return epochs.length === 1 && epochs[0] === GENESIS_EPOCH ? {} : { e: [...epochs] }
}
