/**
 * A sealed value as a private database stores it in an entry: what any replica checks
 * (its shape, and that it names the epochs current in the entry's causal past) without
 * being able to open it.
 */
import { type Denial, firstDenial, invalid } from '../policy/denial.js'
import type { Operation } from '../policy/operations.js'
import { GENESIS_EPOCH, sameDids } from '../policy/share-shape.js'

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

/** Why a data operation (or one of a batch's) of a private database is refused here: not sealed, or sealed under other epochs than `current`. */
export function sealedDenial (op: Operation, current: readonly string[]): Denial | undefined {
  return firstDenial(op, (data) => {
    if (data.op === 'DEL') return undefined
    const epochs = sealedEpochs(data.value)
    if (typeof epochs === 'string') return invalid(epochs)
    if (!sameDids(epochs, current)) {
      return { reason: 'stale-key', detail: `the value is sealed under epoch ${epochs.join(' + ')}; its causal past makes ${current.join(' + ')} current` }
    }
    return undefined
  })
}
