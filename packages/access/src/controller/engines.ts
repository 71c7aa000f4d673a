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
import { sealedDenial } from '../private/sealed-value.js'
import { type AclState, type Genesis, membersOf } from '../policy/acl-state.js'
import { GENESIS_EPOCH } from '../policy/share-shape.js'
import { parseOperation } from '../policy/operations.js'
import { payloadSizeDenial } from '../policy/bounds.js'
import { ClockCheck } from './clock-check.js'
import { badLinks } from '../policy/links.js'
import { ANYONE } from '../policy/policy-block.js'

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
  /**
   * Accept this replica's own new entry, not hashed yet, without reaching a verdict again,
   * when `check` passed its very payload on the heads it links to; false when it did not
   * (then `admit` judges it).
   */
  admitChecked: (entry: LogEntry, hash: () => Promise<string>) => Promise<boolean>
  /**
   * Whether the acceptance of the entry `hash` is final. A fixed writer set accepts an entry
   * whose links it does not hold yet before their clocks are known, and may refuse it when
   * they are (clock-check.ts): asked again, it judges again.
   */
  final: (hash: string) => boolean
}

/** The did:key an entry is signed with. */
function signerOf (entry: LogEntry): string {
  return typeof entry.key === 'string' ? `did:key:${entry.key}` : ''
}

/**
 * `sealed`: a private database, whose values replicas check for shape and epoch only (there
 * is one epoch). Entries signed by delegated keys, and their sessions and revocations, need
 * their causal past: they go to `judge`, the same judge the causal engine uses.
 */
export function fixedWritersEngine (genesis: Genesis, schema: Schema | undefined, progress: JudgeProgress, sealed: boolean, judge: (logId: string) => Judge, readLocalClock: (hash: string) => Promise<number | undefined>, version = 1): VerdictEngine {
  const clocks = new ClockCheck(readLocalClock)
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
  /** Payloads `check` passed without their past, and for whom: their entries are not checked again. */
  const passed = new WeakMap<object, string>()
  const needsPast = (did: string, signer: string, payload: unknown): boolean => {
    const action = ((payload as { value?: { action?: unknown } } | null)?.value)?.action
    // Other access operations are refused alone, delegated or not: no delegation is verified for them.
    if ((payload as { op?: unknown } | null)?.op === 'ACL') return action === 'session' || action === 'revoke-device'
    return did !== signer
  }
  return {
    check: async (did, payload, heads, signer = did) => {
      if (needsPast(did, signer, payload)) return causal.check(did, payload, heads, signer)
      const refused = denial(did, payload) ?? sizeDenial(payload)
      if (refused === undefined && typeof payload === 'object' && payload !== null) passed.set(payload, did)
      return refused
    },
    schemaAt: async () => schema,
    state: async () => ({ admins: new Set(), writers, readers, epochs, keyHolders, cancelledInvites: new Set(), redeemedInvites: new Set(), sessions: new Map(), revokedDevices: new Set(), revokedAt: new Map() }),
    admit: async (entry, hash) => {
      const signer = signerOf(entry)
      if (needsPast(entry.identity, signer, entry.payload)) return causal.admit(entry, hash)
      return admitAlone(entry, hash)
    },
    admitChecked: async (entry, hash) => {
      const signer = signerOf(entry)
      if (needsPast(entry.identity, signer, entry.payload)) return causal.admitChecked(entry, hash)
      // The entry alone decides, and `check` decided on this payload for this DID, signing for itself.
      const did = passed.get(entry.payload as object)
      passed.delete(entry.payload as object)
      return did !== undefined && did === entry.identity && signer === did
    },
    final: (hash) => !clocks.waits(hash)
  }
  async function admitAlone (entry: LogEntry, hash: () => Promise<string>): Promise<void> {
    // Only remote entries arrive hashed: local appends are not received.
    if (entry.hash !== undefined) progress.received++
    progress.judged++
    const did = await verifyEntry(entry)
    // The judge's link rules hold here too: a fixed writer set must not accept what the judge (sessions, revocations) refuses.
    const malformed = entry.hash === undefined ? undefined : badLinks(entry, () => false)
    if (malformed !== undefined) throw new EntryRejectedError(await hash(), did, 'malformed-entry', malformed)
    const refused = denial(did, entry.payload) ?? sizeDenial(entry.payload)
    if (refused !== undefined) throw new EntryRejectedError(await hash(), did, refused.reason, refused.detail)
    // A local append (not hashed yet) has the clock OrbitDB made from this replica's heads.
    if (entry.hash === undefined) return
    await clocks.check(entry.hash, did, entry.clock?.time, [...(entry.next ?? []), ...(entry.refs ?? [])])
    clocks.passed(entry.hash, entry.clock.time)
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
    },
    admitChecked: async (entry, hashOf) => {
      const judge = bound()
      return judge.acceptChecked({ ...(entry as unknown as EntryLike), hash: await hashOf() }, signerOf(entry))
    },
    // The judge's verdict on an entry is fixed by its causal past.
    final: () => true
  }
}
