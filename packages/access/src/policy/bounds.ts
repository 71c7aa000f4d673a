/**
 * Bounds on the numbers an entry's author chooses. Each holds on every replica, and none can
 * stop an honest writer: didbase (through OrbitDB) always writes the values they allow.
 * docs/security.md lists them with their reasons.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { MAX_BATCH_BYTES } from './operations.js'

/**
 * An entry's Lamport clock is exactly one past the latest entry it links to: OrbitDB writes
 * nothing else. A larger step would let one entry win every key for good, or push clocks
 * past 2^53 where no later write could follow it.
 */
export const CLOCK_STEP = 1

/** Why an entry's clock breaks the rule, if it does; `latest` is the greatest clock it links to (0 for none). */
export function clockDenial (time: unknown, latest: number): string | undefined {
  if (typeof time === 'number' && Number.isSafeInteger(time) && time === latest + CLOCK_STEP) return undefined
  return `clock time ${String(time)} is not one past the latest entry it links to (${latest})`
}

/** Most bytes a data entry's payload (one operation or a batch) takes, dag-cbor encoded (rules version 2). */
export const MAX_DATA_PAYLOAD = MAX_BATCH_BYTES + 4096
/** Most bytes an access operation's payload takes (key shares grow with the members: about 336 bytes each, so about 12,000 fit). */
export const MAX_ACL_PAYLOAD = 4 * MAX_BATCH_BYTES

/** Why a payload is too large for its kind, if it is (rules version 2). */
export function payloadSizeDenial (payload: unknown, access: boolean): string | undefined {
  const limit = access ? MAX_ACL_PAYLOAD : MAX_DATA_PAYLOAD
  let size: number
  try {
    size = dagCbor.encode(payload).byteLength
  } catch {
    return 'the payload is not dag-cbor'
  }
  return size > limit ? `the payload takes ${size} bytes encoded; ${access ? 'an access operation' : 'a write'} takes at most ${limit}` : undefined
}
