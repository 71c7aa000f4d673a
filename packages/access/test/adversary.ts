/**
 * Helpers for the adversarial harness (adversarial.spec.ts): raw entries with any field an
 * author controls (clock, database id, links), forged key shares, replicas that load only
 * what has reached them, what a replica ends with (roles, epochs, record winners,
 * creations), and the keys an adversary can derive from what the log wraps to it.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 as sha256Bytes } from '@noble/hashes/sha2.js'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { DecryptionError, EntryRejectedError } from '../src/errors.js'
import { encodeSignature, signedBytes, signerKeyOf } from '../src/identity/entry.js'
import { createDidKeyIdentity, type DidIdentity, type DidKeyIdentity } from '../src/did/identity.js'
import { type Denial, Judge, type JudgeRules, type LoadedEntry } from '../src/judge/judge.js'
import type { AclState } from '../src/policy/acl-state.js'
import { fixedWritersEngine, JudgeProgress } from '../src/controller/engines.js'
import { dataPayloadsOf } from '../src/policy/operations.js'
import type { PrivateField } from '../src/policy/policy-block.js'
import { previousKey } from '../src/private/epoch-keys.js'
import type { KeySources } from '../src/private/key-log.js'
import { epochLabel, Keyring } from '../src/private/keyring.js'
import { open, type Sealed } from '../src/private/sealed.js'
import { GENESIS_EPOCH, type KeyShare } from '../src/policy/share-shape.js'
import type { History } from './history.js'

/** A did:key identity from a name, the same in every process (so a seed replays the same DIDs). */
export function named (name: string): DidKeyIdentity {
  return createDidKeyIdentity({ seed: sha256Bytes(new TextEncoder().encode(`didbase adversarial harness: ${name}`)) })
}

export function randomBytes (n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
}

/** A canonical entry hash that names no entry anywhere. */
export async function missingHash (): Promise<string> {
  return CID.create(1, dagCbor.code, await sha256.digest(randomBytes(32))).toString(base58btc)
}

/** A schema CID that names nothing this harness can load. */
export async function someCid (): Promise<CID> {
  return CID.create(1, dagCbor.code, await sha256.digest(randomBytes(16)))
}

/**
 * An entry as any author can sign it: any clock (not only one past its links), any database
 * id, any links, any claimed DID. It is stored in `h`, so replicas can load it.
 */
export async function writeRaw (h: History, author: DidIdentity, payload: unknown, next: readonly string[], o: { time: number, as?: string, id?: string }): Promise<LoadedEntry> {
  const fields = { id: o.id ?? h.address, payload, next: [...next], refs: [], clock: { id: signerKeyOf(author.did), time: o.time }, v: 2 }
  const sig = encodeSignature(await author.sign(signedBytes(fields)))
  const body = { ...fields, key: signerKeyOf(author.did), identity: o.as ?? author.did, sig }
  const hash = CID.create(1, dagCbor.code, await sha256.digest(dagCbor.encode(body))).toString(base58btc)
  const entry = { ...body, hash }
  h.entries.set(hash, entry)
  return entry
}

/**
 * A key share that only looks wrapped for `dids`: replicas read whom a share is for from
 * its recipients' `kid`s and cannot open it, so this passes every shape check and opens for no one.
 */
export function forgedShare (dids: readonly string[]): KeyShare {
  const b64 = (n: number): string => Buffer.from(randomBytes(n)).toString('base64url')
  return {
    protected: b64(24),
    iv: b64(24),
    ciphertext: b64(32),
    tag: b64(16),
    recipients: dids.map((did) => ({ header: { alg: 'ECDH-ES+XC20PKW', iv: b64(24), tag: b64(16), kid: `${did}#${did.slice('did:key:'.length)}` }, encrypted_key: b64(32) }))
  }
}

/** A chain link of the right shape that seals nothing anyone can open. */
export function garbageLink (): Sealed {
  return { nonce: randomBytes(24), ciphertext: randomBytes(48) }
}

/** The entries of `hashes` no other of them links to, sorted. */
export function headsOf (h: History, hashes: Iterable<string>): string[] {
  const set = new Set(hashes)
  const linked = new Set<string>()
  for (const hash of set) for (const n of h.entries.get(hash)?.next ?? []) linked.add(n)
  return [...set].filter((hash) => !linked.has(hash)).sort()
}

/** Every entry in the causal past of an entry (not itself), over the entries `h` holds; memoised. */
export class Pasts {
  readonly #h: History
  readonly #memo = new Map<string, ReadonlySet<string>>()

  constructor (h: History) {
    this.#h = h
  }

  of (hash: string): ReadonlySet<string> {
    const known = this.#memo.get(hash)
    if (known !== undefined) return known
    // Iterative: post-order over the links, so long chains cannot overflow the stack.
    const stack: Array<{ hash: string, expanded: boolean }> = [{ hash, expanded: false }]
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { hash: string, expanded: boolean }
      if (this.#memo.has(top.hash)) { stack.pop(); continue }
      const links = (this.#h.entries.get(top.hash)?.next ?? []).filter((n) => this.#h.entries.has(n))
      if (!top.expanded) {
        top.expanded = true
        for (const n of links) if (!this.#memo.has(n)) stack.push({ hash: n, expanded: false })
        continue
      }
      stack.pop()
      const past = new Set<string>()
      for (const n of links) {
        past.add(n)
        for (const p of this.#memo.get(n) ?? []) past.add(p)
      }
      this.#memo.set(top.hash, past)
    }
    return this.#memo.get(hash) as ReadonlySet<string>
  }

  /** Whether `ancestor` is in the past of `hash` or is `hash`. */
  reaches (hash: string, ancestor: string): boolean {
    return hash === ancestor || this.of(hash).has(ancestor)
  }
}

/** What a replica answers, whichever engine decides (the judge for ACLs, the fixed-writers engine). */
export interface Replica {
  readonly judge: Judge
  /** 'accepted', or the rejection reason; `error: …` for anything that is not a rejection. */
  verdict: (entry: LoadedEntry) => Promise<string>
  check: (did: string, payload: unknown, heads: readonly string[], signer?: string) => Promise<Denial | undefined>
  /** The access state at `heads` (fixed writers: the judge's, for sessions and device revocations). */
  stateAt: (heads: readonly string[]) => Promise<AclState>
  readonly keys: KeySources
}

/**
 * A fresh replica of `h`'s database. It loads an entry only once `available` holds it (when
 * given): entries that reach it before their past are judged `unavailable` and wait.
 */
export function replicaOf (h: History, rules: JudgeRules, fixed: boolean, available?: ReadonlySet<string>): Replica {
  const load = async (hash: string): Promise<LoadedEntry> => {
    const entry = available === undefined || available.has(hash) ? h.entries.get(hash) : undefined
    if (entry === undefined) throw new Error(`no block ${hash} here yet`)
    return entry
  }
  const judge = new Judge(h.address, rules, load)
  const reason = (err: unknown): string => (err instanceof EntryRejectedError ? err.reason : (err as { reason?: string }).reason ?? `error: ${(err as Error).message}`)
  if (!fixed) {
    return {
      judge,
      verdict: async (entry) => {
        try {
          await judge.judge(entry)
          return 'accepted'
        } catch (err) {
          return reason(err)
        }
      },
      check: async (did, payload, heads, signer) => judge.check(did, payload, heads, signer),
      stateAt: async (heads) => judge.stateAt(heads),
      keys: judge.keys
    }
  }
  // Engines that check clocks read the clocks of entries linked to from the store (here, the whole history); older ones take neither argument.
  const version = (rules as { version?: number }).version ?? 1
  const readClock = async (hash: string): Promise<number | undefined> => (await load(hash).catch(() => undefined))?.clock.time
  const engine = (fixedWritersEngine as (...args: unknown[]) => ReturnType<typeof fixedWritersEngine>)({ admins: rules.admins, writers: rules.writers, readers: rules.readers ?? [] }, rules.schema, new JudgeProgress(), rules.private === true, () => judge, readClock, version)
  return {
    judge,
    verdict: async (entry) => {
      try {
        await engine.admit(entry as never, async () => entry.hash)
        return 'accepted'
      } catch (err) {
        return reason(err)
      }
    },
    check: async (did, payload, heads, signer) => engine.check(did, payload, heads, signer),
    stateAt: async (heads) => judge.stateAt(heads),
    keys: judge.keys
  }
}

/**
 * Deliver `hashes` to `r` in `order`, as a partitioned replica gets them: until `cut`
 * entries have arrived it can load only what has arrived (entries ahead of their past wait);
 * then the partition heals, everything loads, and the waiting entries are judged again.
 * Returns every entry's final verdict.
 */
export async function deliver (h: History, r: Replica, order: readonly string[], cut: number, available: Set<string>): Promise<Map<string, string>> {
  const waiting: string[] = []
  for (const [i, hash] of order.entries()) {
    available.add(hash)
    if (i === cut) for (const other of order) available.add(other)
    if ((await r.verdict(h.entries.get(hash) as LoadedEntry)) === 'unavailable') waiting.push(hash)
  }
  for (const other of order) available.add(other)
  for (const hash of waiting) await r.verdict(h.entries.get(hash) as LoadedEntry)
  const verdicts = new Map<string, string>()
  for (const hash of order) verdicts.set(hash, await r.verdict(h.entries.get(hash) as LoadedEntry))
  return verdicts
}

/** One data operation of an accepted entry, where it stands in the log order. */
export interface Written { hash: string, key: string, op: 'PUT' | 'DEL' | 'ADD', value: unknown }

/** The data operations of `hashes`, in OrbitDB's log order (clock time, then hash), batches in their order. */
export function writesOf (h: History, hashes: Iterable<string>): Written[] {
  const entries = [...hashes].map((hash) => h.entries.get(hash) as LoadedEntry)
    .sort((x, y) => x.clock.time - y.clock.time || (x.hash < y.hash ? -1 : x.hash > y.hash ? 1 : 0))
  const out: Written[] = []
  for (const e of entries) {
    for (const p of dataPayloadsOf(e.payload)) if (typeof p.key === 'string') out.push({ hash: e.hash, key: p.key, op: p.op, value: p.value })
  }
  return out
}

/** For each record key, the entry whose operation wins it (last writer by clock, then hash). */
export function winnersOf (h: History, accepted: Iterable<string>): Map<string, string> {
  const winners = new Map<string, string>()
  for (const w of writesOf(h, accepted)) winners.set(w.key, w.hash)
  return winners
}

/** For each record key, the accepted entries that created it: entries on it with no entry on it in their past. */
export function creationsOf (h: History, pasts: Pasts, accepted: Iterable<string>): Map<string, Set<string>> {
  const byKey = new Map<string, Set<string>>()
  for (const w of writesOf(h, accepted)) byKey.set(w.key, (byKey.get(w.key) ?? new Set()).add(w.hash))
  const creations = new Map<string, Set<string>>()
  for (const [key, on] of byKey) {
    creations.set(key, new Set([...on].filter((hash) => ![...on].some((other) => other !== hash && pasts.of(hash).has(other)))))
  }
  return creations
}

const INFO_SEAL = new TextEncoder().encode('didbase/private/seal/1')

/** The key values sealed under `keys` (in their epochs' order) use, as keyring.ts derives it. */
export function sealingKeyOf (keys: readonly Uint8Array[]): Uint8Array {
  const material = new Uint8Array(keys.reduce((n, k) => n + k.length, 0))
  let at = 0
  for (const k of keys) { material.set(k, at); at += k.length }
  return hkdf(sha256Bytes, material, undefined, INFO_SEAL, 32)
}

/**
 * Every epoch key an adversary can derive: what the key log wraps to any of its
 * `identities` (through their keyrings, which follow chain links down from what they
 * open), the keys it generated itself (`own`, by epoch), and whatever the chain links
 * under any key it holds open, to a fixed point.
 */
export async function derivableKeys (address: string, privacy: PrivateField, identities: readonly DidKeyIdentity[], sources: KeySources, epochs: readonly string[], own: ReadonlyMap<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
  const known = new Map<string, Uint8Array>(own)
  for (const identity of identities) {
    const ring = new Keyring(identity, address, privacy, () => sources)
    for (const epoch of epochs) {
      if (known.has(epoch)) continue
      try {
        known.set(epoch, await ring.epochKey(epoch))
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err
      }
    }
  }
  for (let grew = true; grew;) {
    grew = false
    for (const epoch of epochs) {
      if (known.has(epoch)) continue
      for (const later of sources.successorsOf(epoch)) {
        const key = known.get(later.epoch)
        if (key === undefined) continue
        try {
          known.set(epoch, previousKey(key, later.link, { address, epoch }))
          grew = true
          break
        } catch (err) {
          if (!(err instanceof DecryptionError)) throw err
        }
      }
    }
  }
  return known
}

/** A sealed value as an entry holds it. */
export interface SealedRecord { hash: string, key: string, value: { nonce: Uint8Array, ciphertext: Uint8Array, e?: string[] } }

/** The sealed PUT values of `hashes` (alone or in batches). */
export function sealedRecordsOf (h: History, hashes: Iterable<string>): SealedRecord[] {
  return writesOf(h, hashes).filter((w) => w.op === 'PUT' && typeof w.value === 'object' && w.value !== null && (w.value as { nonce?: unknown }).nonce instanceof Uint8Array)
    .map((w) => ({ hash: w.hash, key: w.key, value: w.value as SealedRecord['value'] }))
}

/** The plaintext of `record` under the keys `known` (by epoch) and `extra` (tried for any epoch), or undefined. */
export function openWith (address: string, record: SealedRecord, known: ReadonlyMap<string, Uint8Array>, extra: readonly Uint8Array[] = []): string | undefined {
  const epochs = record.value.e ?? [GENESIS_EPOCH]
  const choices = epochs.map((e) => [...(known.has(e) ? [known.get(e) as Uint8Array] : []), ...extra])
  if (choices.some((c) => c.length === 0)) return undefined
  // Every combination of candidate keys (a handful: epochs are few, extra keys fewer).
  const combos: Uint8Array[][] = [[]]
  for (const c of choices) combos.splice(0, combos.length, ...combos.flatMap((prefix) => c.map((k) => [...prefix, k])))
  for (const keys of combos) {
    try {
      return new TextDecoder().decode(open(sealingKeyOf(keys), record.value, { address, epoch: epochLabel(epochs), record: record.key }))
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err
    }
  }
  return undefined
}
