/**
 * What a local write must pass before anything is signed: the handle is open, the value is
 * storable, and the policy allows the payload (exactly what OrbitDB will append) against
 * this replica's heads.
 */
import { AccessDeniedError, EntryRejectedError } from '@didbase/access'
import type { AccessPolicy } from '@didbase/access/internal'
import { type AbortOptions, abortable } from '../abort.js'
import { ClosedError } from '../errors.js'
import { storableCopy } from '../databases/values.js'

export interface WriteGateInit {
  did: string
  /** The key that signs: `did`, or a session or device key `did` delegated to. */
  signer: string
  address: string
  policy: AccessPolicy
  /** This replica's heads, sorted. */
  heads: () => Promise<string[]>
  closed: () => boolean
}

export class WriteGate {
  readonly #did: string
  readonly #signer: string
  readonly #address: string
  readonly #policy: AccessPolicy
  readonly #heads: () => Promise<string[]>
  readonly #closed: () => boolean

  constructor (init: WriteGateInit) {
    this.#did = init.did
    this.#signer = init.signer
    this.#address = init.address
    this.#policy = init.policy
    this.#heads = init.heads
    this.#closed = init.closed
  }

  assertOpen (): void {
    if (this.#closed()) throw new ClosedError(`${this.#address} is closed`)
  }

  /**
   * Every check a local write of `payload` must pass before it is signed; a refusal throws
   * `AccessDeniedError`. `heads` are this replica's, when the caller read them already.
   * Resolves to the payload that passed (a copy of `payload` as it was: append that one, so
   * that what is signed is what was checked) and its size, dag-cbor encoded.
   */
  async check<P> (payload: P, options: AbortOptions = {}, heads?: readonly string[]): Promise<{ payload: P, bytes: number }> {
    options.signal?.throwIfAborted()
    this.assertOpen()
    const { copy, bytes } = storableCopy(payload)
    // Only an ACL, ownership or a delegated key judges a write by its causal past; a fixed
    // set of writers signing for themselves needs no heads read per write.
    // Nothing is signed yet, so an abort during the checks (which may fetch the causal past) stops the write.
    const needsPast = this.#policy.mutable || this.#policy.ownership || this.#signer !== this.#did || isAccessPayload(payload)
    const past = needsPast ? heads ?? await abortable(this.#heads(), options) : []
    await abortable(this.#policy.check(this.#did, copy, past, this.#signer), options)
    return { payload: copy, bytes }
  }

  /** Run `op` (the append) on the payload that passed every check (a copy of `payload`); a refusal throws `AccessDeniedError`. */
  async write<P> (payload: P, op: (checked: P) => Promise<string>, options: AbortOptions = {}): Promise<string> {
    const checked = await this.check(payload, options)
    // The last moment a write can be called off: past it, the entry is signed and appended.
    options.signal?.throwIfAborted()
    try {
      return await op(checked.payload)
    } catch (err) {
      throw this.refusal(err)
    }
  }

  /**
   * The error a failed append earns: the heads moved between the check and the append (a
   * revocation arrived, say) and OrbitDB's own check refused the entry before storing it.
   */
  refusal (err: unknown): unknown {
    return err instanceof EntryRejectedError ? new AccessDeniedError(this.#did, this.#address, err.detail, err.reason) : err
  }
}

/** Access operations (a device revocation, on a fixed set of writers) are judged by their causal past. */
function isAccessPayload (payload: unknown): boolean {
  return (payload as { op?: unknown } | null)?.op === 'ACL'
}
