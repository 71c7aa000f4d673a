/**
 * A refusal as the rules give it: the reason every replica reports alike, and what it says.
 * A batch is refused for its first refused operation, named by its place.
 */
import type { RejectionReason } from '../errors.js'
import { type DataOperation, dataOperationsOf, type Operation } from './operations.js'

/** Why the rules refuse an entry. */
export interface Denial {
  reason: RejectionReason
  detail: string
  cause?: unknown
}

/** An `invalid-operation` refusal. */
export const invalid = (detail: string): Denial => ({ reason: 'invalid-operation', detail })

/** The first denial `deny` gives an operation of `op` (each of a batch's, as if alone), naming its place in a batch. */
export function firstDenial (op: Operation, deny: (data: DataOperation) => Denial | undefined): Denial | undefined {
  const ops = dataOperationsOf(op)
  for (const [i, data] of ops.entries()) {
    const denial = deny(data)
    if (denial !== undefined) return op.kind === 'batch' ? { ...denial, detail: `operation ${i} of the batch: ${denial.detail}` } : denial
  }
  return undefined
}
