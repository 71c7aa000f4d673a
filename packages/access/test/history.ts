/**
 * Signed oplog entries built in memory, with real Ed25519 signatures and real content
 * hashes, for judging without a network. `History.judge` gives a fresh replica's judge that
 * loads what it is missing from the history, as a replica fetches blocks from peers.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { encodeSignature, signedBytes, signerKeyOf } from '../src/identity/entry.js'
import type { DidIdentity } from '../src/did/identity.js'
import { Judge, type JudgeRules, type LoadedEntry } from '../src/judge/judge.js'
import { type AclOperation, aclPayload } from '../src/policy/operations.js'

/** An access operation without its time, which `History.acl` fills in. */
export type Undated<T> = T extends unknown ? Omit<T, 'at'> & { at?: number } : never

export class History {
  readonly address: string
  readonly entries = new Map<string, LoadedEntry>()
  #at = 1_700_000_000_000

  constructor (address = '/orbitdb/zdpuAccessTestDatabase') {
    this.address = address
  }

  /** `as`: the DID the entry claims when `author` is a key that DID delegated to. */
  async write (author: DidIdentity, payload: unknown, parents: readonly string[] = [], options: { time?: number, as?: string } = {}): Promise<LoadedEntry> {
    const times = parents.map((h) => this.entries.get(h)?.clock.time ?? 0)
    const fields = {
      id: this.address,
      payload,
      next: [...parents],
      refs: [],
      clock: { id: signerKeyOf(author.did), time: options.time ?? Math.max(0, ...times) + 1 },
      v: 2
    }
    const sig = encodeSignature(await author.sign(signedBytes(fields)))
    const body = { ...fields, key: signerKeyOf(author.did), identity: options.as ?? author.did, sig }
    const digest = await sha256.digest(dagCbor.encode(body))
    const hash = CID.create(1, dagCbor.code, digest).toString(base58btc)
    const entry = { ...body, hash }
    this.entries.set(hash, entry)
    return entry
  }

  /** An access operation; `at` defaults to a clock that moves forward one second per call. */
  async acl (author: DidIdentity, op: Undated<AclOperation>, parents: readonly string[] = [], options: { as?: string } = {}): Promise<LoadedEntry> {
    this.#at += 1000
    return this.write(author, aclPayload({ ...op, at: op.at ?? this.#at } as AclOperation), parents, options)
  }

  async put (author: DidIdentity, key: string, value: unknown, parents: readonly string[] = []): Promise<LoadedEntry> {
    return this.write(author, { op: 'PUT', key, value }, parents)
  }

  judge (rules: JudgeRules): Judge {
    return new Judge(this.address, rules, async (hash) => {
      const entry = this.entries.get(hash)
      if (entry === undefined) throw new Error(`no block ${hash}`)
      return entry
    })
  }
}

/** 'accepted', or the rejection reason. */
export async function verdict (judge: Judge, entry: LoadedEntry): Promise<string> {
  try {
    await judge.judge(entry)
    return 'accepted'
  } catch (err) {
    return (err as { reason?: string }).reason ?? `error: ${(err as Error).message}`
  }
}

/** The heads of a view of the history: its entries no other entry in the view links to. */
export function heads (view: Set<string>, h: History): string[] {
  const linked = new Set<string>()
  for (const hash of view) for (const n of h.entries.get(hash)?.next ?? []) linked.add(n)
  return [...view].filter((hash) => !linked.has(hash)).sort()
}

/** `items` in an order fixed by `seed` (mulberry32), so a failing order can be replayed. */
export function shuffled<T> (items: T[], seed: number): T[] {
  let state = seed >>> 0
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}
