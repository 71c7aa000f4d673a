/**
 * Judge entries that arrive over gossipsub before OrbitDB sees them.
 *
 * OrbitDB applies remote entries one at a time, in one queue per database. An entry whose
 * past must be fetched holds that queue until the fetch ends, so one signed entry naming
 * blocks nobody has would stall every honest write behind it for the whole fetch timeout.
 * As a gossipsub topic validator, the same check (signature, policy in the entry's causal
 * past, schema) runs beside other messages instead: a hostile entry waits alone and is
 * dropped, gossipsub does not forward it, and the verdicts of entries that pass are cached,
 * so OrbitDB's own check of them is immediate.
 */
import { EntryRejectedError } from '@didbase/access'
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { Queue } from '@libp2p/utils'
import { Entry, type LogEntry } from '@orbitdb/core'

/** Strangers' entries judged at once per database; the others wait for a turn. */
export const MAX_JUDGING = 32
/** Strangers' entries waiting for a turn; more are dropped (a later entry or heads exchange brings them again). */
export const MAX_WAITING = 1_000
/** Redeems of invites judged at once, in a line of their own (eight times as many may wait). */
export const MAX_INVITEES = 4

export interface ValidatorContext {
  address: string
  /** OrbitDB's access check of a remote entry (our policy): throws EntryRejectedError. Gives up when stalled. */
  check: (entry: LogEntry) => Promise<unknown>
  /** Whether the entry's DID, signing with `signer`, is known here to write: known writers never wait behind strangers. */
  knows: (did: string, signer: string) => boolean
  /**
   * Whether the entry redeems an invite that names it and an admin here (read, not verified:
   * the check verifies): invitees wait in their own line, so a strangers' flood cannot drop them.
   */
  invited?: (entry: LogEntry) => boolean
  has: (hash: string) => Promise<boolean>
  /** Told of each entry that passed, with its bytes, before OrbitDB queues it to be joined. */
  accepted: (entry: LogEntry, bytes: Uint8Array) => void
  /** Told of each message refused here (it never reaches OrbitDB); no entry when it did not decode. */
  rejected: (entry: LogEntry | undefined, err: unknown) => void
}

export function entryValidator (ctx: ValidatorContext): TopicValidatorFn {
  // Strangers' entries are judged MAX_JUDGING at a time; a full line drops the rest.
  const strangers = new Queue<TopicValidatorResult>({ concurrency: MAX_JUDGING, maxSize: MAX_JUDGING + MAX_WAITING })
  const invitees = new Queue<TopicValidatorResult>({ concurrency: MAX_INVITEES, maxSize: MAX_INVITEES * 8 })
  const judge = async (entry: LogEntry, bytes: Uint8Array): Promise<TopicValidatorResult> => {
    try {
      await ctx.check(entry)
      ctx.accepted(entry, bytes)
      return TopicValidatorResult.Accept
    } catch (err) {
      ctx.rejected(entry, err)
      // An entry whose past could not be fetched may be fine later; only a verdict is a rejection.
      return err instanceof EntryRejectedError && err.reason === 'unavailable' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
    }
  }
  return async (_peer, message: Message) => {
    let entry: LogEntry
    try {
      entry = await Entry.decode(message.data)
    } catch (err) {
      ctx.rejected(undefined, new EntryRejectedError('(undecodable)', '(none)', 'malformed-entry', `not an oplog entry: ${(err as Error).message}`))
      return TopicValidatorResult.Reject
    }
    if (entry.id !== ctx.address) {
      ctx.rejected(entry, new EntryRejectedError(entry.hash, String(entry.identity), 'wrong-database', `the entry belongs to ${String(entry.id)}`))
      return TopicValidatorResult.Reject
    }
    if (await ctx.has(entry.hash)) return TopicValidatorResult.Accept
    // Known writers never wait behind strangers.
    // The key that signed, not only the DID claimed: anyone can claim a member's DID.
    if (ctx.knows(String(entry.identity), `did:key:${String(entry.key)}`)) return judge(entry, message.data)
    if (ctx.invited?.(entry) === true) {
      if (invitees.size >= invitees.maxSize) return TopicValidatorResult.Ignore
      return invitees.add(async () => judge(entry, message.data))
    }
    // Under a flood of strangers' entries, drop what cannot wait: a later entry or a heads exchange brings it again.
    if (strangers.size >= strangers.maxSize) return TopicValidatorResult.Ignore
    return strangers.add(async () => judge(entry, message.data))
  }
}
