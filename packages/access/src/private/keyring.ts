/**
 * A member's keys to a private database, found the way the log holds them: the genesis key
 * in the policy block or in a share for this member; any epoch's key in a share wrapped for
 * this member, or sealed under the key of a later epoch this member holds (so the newest
 * key reads all history). Keys found are kept; what cannot be found yet is looked for again
 * once the log holds more shares.
 */
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { JWE } from 'did-jwt'
import { DecryptionError } from '../errors.js'
import type { DidIdentity, DidKeyIdentity } from '../did/identity.js'
import type { PrivateField } from '../policy/policy-block.js'
import { chainKeys, previousKey, type ShareBinding, shareKey, unwrapShare } from './epoch-keys.js'
import type { KeySources } from './key-log.js'
import { newKey } from './sealed.js'
import { type EpochShare, GENESIS_EPOCH, type Rekey } from '../policy/share-shape.js'

/** Where the key share in a private database's policy block is bound (the address does not exist yet when it is made). */
export const POLICY_SHARE = { address: '(policy)', epoch: 0 }

const INFO_SEAL = new TextEncoder().encode('didbase/private/seal/1')
const INFO_BLIND = new TextEncoder().encode('didbase/private/blind/1')

/** The epoch a value's binding names: 0 for the genesis epoch alone (as before epochs existed). */
export function epochLabel (epochs: readonly string[]): number | string {
  return epochs.length === 1 && epochs[0] === GENESIS_EPOCH ? 0 : epochs.join(' ')
}

export class Keyring {
  readonly #identity: DidIdentity
  readonly #address: string
  readonly #privacy: PrivateField
  readonly #sources: () => KeySources
  readonly #found = new Map<string, Uint8Array>()
  /** Epochs looked for in vain, with the size of the key log then. */
  readonly #missing = new Map<string, number>()
  readonly #sealing = new Map<string, Uint8Array>()

  constructor (identity: DidIdentity, address: string, privacy: PrivateField, sources: () => KeySources) {
    this.#identity = identity
    this.#address = address
    this.#privacy = privacy
    this.#sources = sources
  }

  get did (): string {
    return this.#identity.did
  }

  /** The key of `epoch`, or `DecryptionError` when this member holds none (never shared with it, or revoked before it). */
  async epochKey (epoch: string): Promise<Uint8Array> {
    const key = await this.#find(epoch, new Set())
    if (key === undefined) throw new DecryptionError(`${this.#identity.did} holds no key for epoch ${epoch} of ${this.#address}`)
    return key
  }

  /** The key values sealed under `epochs` (the current epochs of their entries' past) use. */
  async sealingKey (epochs: readonly string[]): Promise<Uint8Array> {
    const id = epochs.join(' ')
    let key = this.#sealing.get(id)
    if (key === undefined) {
      const keys = await Promise.all(epochs.map(async (e) => this.epochKey(e)))
      const material = new Uint8Array(keys.reduce((n, k) => n + k.length, 0))
      let at = 0
      for (const k of keys) { material.set(k, at); at += k.length }
      key = hkdf(sha256, material, undefined, INFO_SEAL, 32)
      this.#sealing.set(id, key)
    }
    return key
  }

  /** Blinds record keys; from the genesis key, so a record keeps its blinded key across epochs. */
  async blindingKey (): Promise<Uint8Array> {
    return hkdf(sha256, await this.epochKey(GENESIS_EPOCH), undefined, INFO_BLIND, 32)
  }

  /** Shares of the keys of `epochs` for `members` (a grant, an invite, or a member that lacks them). */
  async sharesFor (members: readonly string[], epochs: readonly string[]): Promise<EpochShare[]> {
    return Promise.all(epochs.map(async (epoch) => ({ epoch, share: await shareKey(await this.epochKey(epoch), members, { address: this.#address, epoch }) as never })))
  }

  /** A new epoch key for `members`, following `epochs` (the current ones), for a revocation or `rotate-key`. */
  async rekey (members: readonly string[], epochs: readonly string[]): Promise<Rekey> {
    const key = newKey()
    const chain = await Promise.all(epochs.map(async (epoch) => chainKeys(key, await this.epochKey(epoch), { address: this.#address, epoch })))
    const share = await shareKey(key, members, { address: this.#address, epoch: `next:${epochs.join(' ')}` })
    return { share: share as never, chain }
  }

  async #find (epoch: string, visiting: Set<string>): Promise<Uint8Array | undefined> {
    const found = this.#found.get(epoch)
    if (found !== undefined) return found
    const sources = this.#sources()
    if (visiting.has(epoch) || this.#missing.get(epoch) === sources.size) return undefined
    visiting.add(epoch)
    const key = await this.#fromShares(epoch, sources) ?? await this.#fromLaterEpochs(epoch, sources, visiting)
    if (key === undefined) {
      this.#missing.set(epoch, sources.size)
      return undefined
    }
    this.#found.set(epoch, key)
    return key
  }

  async #fromShares (epoch: string, sources: KeySources): Promise<Uint8Array | undefined> {
    const did = this.#identity.did
    const mine: Array<{ share: unknown, at: ShareBinding }> = sources.sharesOf(epoch).filter((s) => s.to.includes(did)).map((s) => ({ share: s.share, at: { address: this.#address, epoch: s.label } }))
    if (epoch === GENESIS_EPOCH) mine.unshift({ share: this.#privacy.share, at: POLICY_SHARE })
    if (mine.length > 0 && !((this.#identity as Partial<DidKeyIdentity>).seed instanceof Uint8Array)) return undefined
    for (const { share, at } of mine) {
      try {
        return await unwrapShare(share as JWE, this.#identity as DidKeyIdentity, at)
      } catch (err) {
        // Not for this member after all (the policy share names all genesis members), or a bad share: try the next.
        if (!(err instanceof DecryptionError)) throw err
      }
    }
    return undefined
  }

  async #fromLaterEpochs (epoch: string, sources: KeySources, visiting: Set<string>): Promise<Uint8Array | undefined> {
    for (const later of sources.successorsOf(epoch)) {
      const key = await this.#find(later.epoch, visiting)
      if (key === undefined) continue
      try {
        return previousKey(key, later.link, { address: this.#address, epoch })
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err
      }
    }
    return undefined
  }
}
