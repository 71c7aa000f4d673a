/**
 * The two ways a policy reaches a verdict. A fixed set of writers without ownership needs
 * no causal past: the entry alone decides. Anything else (an ACL, ownership) asks the
 * judge, which decides from the entry's causal past.
 */
import type { Schema } from '@didbase/schemas'
import type { LogEntry } from '@orbitdb/core'
import { EntryRejectedError } from '../errors.js'
import { type EntryLike, verifyEntry } from '../identity/entry.js'
import { type Denial, type Judge, schemaDenial } from '../judge/judge.js'
import { sealedDenial } from '../judge/rules.js'
import { type AclState, type Genesis, membersOf } from './acl-state.js'
import { GENESIS_EPOCH } from '../private/share-shape.js'
import { parseOperation } from './operations.js'
import { clockDenial, payloadSizeDenial } from '../judge/bounds.js'
import type { LoadedEntry } from '../judge/judge.js'
import QuickLRU from 'quick-lru'

const CACHED_CLOCKS = 4096
import { ANYONE } from './policy-block.js'

/** Entries read to be checked, and entries judged, since the database opened. */
export class JudgeProgress {
  received = 0
  judged = 0
}

export interface VerdictEngine {
  /** Why a local write of `payload` by `did` (signed by `signer`, if another key) on top of `heads` would be refused, if it would. */
  check: (did: string, payload: unknown, heads: readonly string[], signer?: string) => Promise<Denial | undefined>
  schemaAt: (heads: readonly string[]) => Promise<Schema | undefined>
  state: (heads: readonly string[]) => Promise<AclState>
  /**
   * Accept an entry OrbitDB is about to append or join, or throw `EntryRejectedError`.
   * `hash` computes its hash: a local append has none yet, and most verdicts need none.
   */
  admit: (entry: LogEntry, hash: () => Promise<string>) => Promise<void>
}

/**
 * `sealed`: a private database, whose values replicas check for shape and epoch only (there
 * is one epoch). Entries signed by delegated keys, and their sessions and revocations, need
 * their causal past: they go to `judge`, the same judge the causal engine uses.
 */
export function fixedWritersEngine (genesis: Genesis, schema: Schema | undefined, progress: JudgeProgress, sealed: boolean, judge: (logId: string) => Judge, load: (hash: string) => Promise<LoadedEntry>, version = 1): VerdictEngine {
  // The clocks of entries accepted here, so that a clock is checked against its links without reading them again.
  const clocks = new QuickLRU<string, number>({ maxSize: CACHED_CLOCKS })
  const judging = new Map<string, Promise<number | undefined>>()
  const latestLinked = async (entry: LogEntry, did: string, hash: () => Promise<string>): Promise<number> => {
    let latest = 0
    for (const link of new Set([...(entry.next ?? []), ...(entry.refs ?? [])])) {
      // An entry it links to may be under judgement right now (gossip delivers them side by side).
      let time = clocks.get(link) ?? await judging.get(link)
      if (time === undefined) {
        try {
          time = (await load(link)).clock.time
        } catch (err) {
          throw new EntryRejectedError(await hash(), did, 'unavailable', `entry ${link} it links to could not be loaded: ${(err as Error).message}`)
        }
      }
      latest = Math.max(latest, typeof time === 'number' ? time : Number.NaN)
    }
    return latest
  }
  const writers = new Set(genesis.writers)
  const readers = new Set(genesis.readers ?? [])
  const epochs = [GENESIS_EPOCH]
  const keyHolders = new Map([[GENESIS_EPOCH, new Set(membersOf({ admins: [], writers, readers }))]])
  const denial = (did: string, payload: unknown): Denial | undefined => {
    const op = parseOperation(payload)
    if (typeof op === 'string') return { reason: 'invalid-operation', detail: op }
    if (op.kind === 'acl') return { reason: 'invalid-operation', detail: 'this database has a fixed set of writers; its access cannot change' }
    if (!writers.has(ANYONE) && !writers.has(did)) return { reason: 'not-a-writer', detail: 'the DID is not a writer of this database' }
    return sealed ? sealedDenial(op, epochs) : schemaDenial(schema, op)
  }
  const causal = causalEngine(() => judge(''), judge)
  const sizeDenial = (payload: unknown): Denial | undefined => {
    const detail = version >= 2 ? payloadSizeDenial(payload, false) : undefined
    return detail === undefined ? undefined : { reason: 'entry-too-large', detail }
  }
  const needsPast = (did: string, signer: string, payload: unknown): boolean => {
    if (did !== signer) return true
    const action = ((payload as { value?: { action?: unknown } } | null)?.value)?.action
    return (payload as { op?: unknown } | null)?.op === 'ACL' && (action === 'session' || action === 'revoke-device')
  }
  return {
    check: async (did, payload, heads, signer = did) => needsPast(did, signer, payload) ? causal.check(did, payload, heads, signer) : denial(did, payload),
    schemaAt: async () => schema,
    state: async () => ({ admins: new Set(), writers, readers, epochs, keyHolders, cancelledInvites: new Set(), redeemedInvites: new Set(), sessions: new Map(), revokedDevices: new Set(), revokedAt: new Map() }),
    admit: async (entry, hash) => {
      const signer = typeof entry.key === 'string' ? `did:key:${entry.key}` : ''
      if (needsPast(entry.identity, signer, entry.payload)) return causal.admit(entry, hash)
      if (entry.hash === undefined || judging.has(entry.hash)) return admitAlone(entry, hash)
      const verdict = admitAlone(entry, hash)
      const key = entry.hash
      judging.set(key, verdict.then(() => entry.clock.time, () => undefined))
      try {
        await verdict
      } finally {
        judging.delete(key)
      }
    }
  }
  async function admitAlone (entry: LogEntry, hash: () => Promise<string>): Promise<void> {
    // Only remote entries arrive hashed: local appends are not received.
    if (entry.hash !== undefined) progress.received++
    progress.judged++
    const did = await verifyEntry(entry)
    const refused = denial(did, entry.payload) ?? sizeDenial(entry.payload)
    if (refused !== undefined) throw new EntryRejectedError(await hash(), did, refused.reason, refused.detail)
    const badClock = clockDenial(entry.clock?.time, await latestLinked(entry, did, hash))
    if (badClock !== undefined) throw new EntryRejectedError(await hash(), did, 'invalid-clock', badClock)
    if (entry.hash !== undefined) clocks.set(entry.hash, entry.clock.time)
  }
}
/** `bound` is the judge of the bound database; `judgeFor` binds one from an entry's log id. */
export function causalEngine (bound: () => Judge, judgeFor: (logId: string) => Judge): VerdictEngine {
  return {
    check: async (did, payload, heads, signer) => bound().check(did, payload, heads, signer),
    schemaAt: async (heads) => bound().schemaAt(heads),
    state: async (heads) => bound().stateAt(heads),
    admit: async (entry, hashOf) => {
      const hash = await hashOf()
      try {
        await judgeFor(entry.id).judge({ ...(entry as unknown as EntryLike), hash })
      } catch (err) {
        if (err instanceof EntryRejectedError) throw err
        // Hostile input must earn a rejection, never another kind of exception.
        throw new EntryRejectedError(hash, typeof entry.identity === 'string' ? entry.identity : '(none)', 'malformed-entry', (err as Error).message)
      }
    }
  }
}
