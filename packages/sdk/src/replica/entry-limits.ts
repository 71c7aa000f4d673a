/**
 * The limits on one entry's data operations, checked in one place: by a batch before it is
 * signed and by group commit when it packs writes together. Every replica enforces the same
 * limits on what it receives (`@didbase/access`, rules version 2).
 */
import { MAX_BATCH_BYTES, MAX_BATCH_OPS } from '@didbase/access'
import { InvalidValueError } from '../errors.js'

/** Room kept below the byte limit for the batch's own framing around its operations. */
const BATCH_FRAMING = 64

/** Whether `ops` operations taking `bytes` (dag-cbor encoded) fit one entry. */
export function fitsOneEntry (ops: number, bytes: number): boolean {
  return ops <= MAX_BATCH_OPS && bytes <= MAX_BATCH_BYTES - BATCH_FRAMING
}

/** Throw `InvalidValueError`, saying which limit, unless `ops` operations of `bytes` fit one entry. */
export function assertFitsOneEntry (ops: number, bytes: number): void {
  if (ops > MAX_BATCH_OPS) throw new InvalidValueError(`a batch carries at most ${MAX_BATCH_OPS} operations; this one has ${ops}`)
  if (bytes > MAX_BATCH_BYTES - BATCH_FRAMING) throw new InvalidValueError(`a batch carries at most ${MAX_BATCH_BYTES} bytes of operations; this one has ${bytes}`)
}
