/**
 * What a local write must pass before anything is signed: the handle is open, the value is
 * storable, and the policy allows the payload (exactly what OrbitDB will append) against
 * this replica's heads.
 */
import { type AccessPolicy, AccessDeniedError, EntryRejectedError, notPlainData } from '@didbase/access'
import * as dagCbor from '@ipld/dag-cbor'
import { type AbortOptions, abortable } from '../abort.js'
import { ClosedError, InvalidValueError } from '../errors.js'

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

  /** Run `op` (the append) once `payload` passed every check; a refusal throws `AccessDeniedError`. */
  async write (payload: unknown, op: () => Promise<string>, options: AbortOptions = {}): Promise<string> {
    options.signal?.throwIfAborted()
    this.assertOpen()
    assertEncodable(payload)
    // Only an ACL, ownership or a delegated key judges a write by its causal past; a fixed
    // set of writers signing for themselves needs no heads read per write.
    // Nothing is signed yet, so an abort during the checks (which may fetch the causal past) stops the write.
    const needsPast = this.#policy.mutable || this.#policy.ownership || this.#signer !== this.#did
    const past = needsPast ? await abortable(this.#heads(), options) : []
    await abortable(this.#policy.check(this.#did, payload, past, this.#signer), options)
    // The last moment a write can be called off: past it, the entry is signed and appended.
    options.signal?.throwIfAborted()
    try {
      return await op()
    } catch (err) {
      // The heads moved between the check and the append (a revocation arrived, say):
      // OrbitDB's own check refused the entry before storing it.
      if (err instanceof EntryRejectedError) throw new AccessDeniedError(this.#did, this.#address, err.detail, err.reason)
      throw err
    }
  }
}

export function assertEncodable (value: unknown): void {
  const why = notPlainData(value)
  if (why !== undefined) throw new InvalidValueError(`value cannot be stored: ${why}`)
  try {
    dagCbor.encode(value)
  } catch (cause) {
    throw new InvalidValueError(`value cannot be stored: ${(cause as Error).message} (values must be dag-cbor: no undefined, functions, symbols or non-finite numbers)`, { cause })
  }
}

export function assertKey (key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidValueError(`${what} must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
  }
}
