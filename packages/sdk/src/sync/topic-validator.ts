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
 *
 * Works around `@orbitdb/core` 4.0.0 `src/sync.js` 227-243 (pubsub entries are joined one at
 * a time in the database's queue, checked only there). Not only a workaround: the lines that
 * bound what strangers cost stay whatever OrbitDB does.
 */
import { EntryRejectedError } from '@didbase/access'
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { Queue } from '@libp2p/utils'
import { Entry, type LogEntry } from '@orbitdb/core'
import type { PeerId } from '@libp2p/interface'
import { ignoreCounted, OVER_SHARE_WEIGHT, publishedBy, REFUSED_WEIGHT, UNSERVED_WEIGHT } from './peer-penalties.js'
import { ownBytes } from '../upstream/gossipsub-frames.js'

/** Strangers' entries judged at once per database; the others wait for a turn. */
export const MAX_JUDGING = 32
/**
 * Strangers' entries waiting for a turn; more are dropped (a later entry or heads exchange
 * brings them again). With MAX_TURN_MS, a line of entries whose past never comes drains in
 * under a minute.
 */
export const MAX_WAITING = 256
/**
 * Known writers' entries held at once per database, in a line of their own, each judged as
 * it comes (no waiting behind another member's slow past). Known means holding a role named
 * for the DID (not only `'*'`), signed by its own key or one it registered. Their entries
 * are judged in milliseconds unless their past must be fetched, so the line fills only when
 * that past does not come: a member naming blocks nobody has then holds at most its share
 * of the line (1/SOURCES_TO_FILL, and of MAX_LINE_BYTES), never the process. What does not
 * fit is dropped uncharged, and comes again with a later write or a heads exchange.
 */
export const MAX_MEMBERS_HELD = 1024
/** Redeems of invites judged at once, in a line of their own (eight times as many may wait). */
export const MAX_INVITEES = 4
/** Bytes of messages either line holds at once: entries up to 4 MiB must not make a full line of them a gigabyte. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024
/**
 * Links a stranger's entry may name that this replica does not hold: only these are fetched
 * to judge it. An honest newcomer links to the heads it saw and up to 16 older entries
 * (OrbitDB's references), which came from replicas like this one (room for 16 heads); an entry with a larger unknown past comes with a heads exchange instead.
 */
export const MAX_UNKNOWN_LINKS = 32
/** Senders that together may fill a line: one holds at most this fraction of it. */
export const SOURCES_TO_FILL = 4
/**
 * Longest a stranger's entry (or an invitee's redeem) holds its turn in a line. One whose past
 * has not arrived by then (its sender went away, or never served it) is dropped as
 * unavailable and the next one is judged. Its judgment goes on until its fetches end (30 s
 * at most), with its message still counted against the line, and its sender is charged only
 * by the verdict it then gets: an honest relay whose entry was merely slow pays nothing.
 * Without it, a line full of entries from a sender that had left waited 30 s per fetch, so
 * its thousand entries, and their memory, stayed for many minutes.
 */
export const MAX_TURN_MS = 5_000

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
  /** Longest a turn in a line lasts (MAX_TURN_MS unless told). */
  maxTurnMs?: number
  /** Charge a peer refusal points after the fact: the verdict on an entry whose turn ran out. */
  penalize?: (peer: PeerId, points: number) => void
}

export function entryValidator (ctx: ValidatorContext): TopicValidatorFn {
  // Strangers' entries are judged MAX_JUDGING at a time; a full line drops the rest.
  const strangers = new Line(new Queue<TopicValidatorResult>({ concurrency: MAX_JUDGING, maxSize: MAX_JUDGING + MAX_WAITING }))
  const invitees = new Line(new Queue<TopicValidatorResult>({ concurrency: MAX_INVITEES, maxSize: MAX_INVITEES * 8 }))
  const members = new Line(new Queue<TopicValidatorResult>({ concurrency: MAX_MEMBERS_HELD, maxSize: MAX_MEMBERS_HELD }))
  /** The policy's verdict as gossipsub's result, reported; once `late()` (its turn ran out, and was answered), nothing is handed on or reported. */
  const judge = async (entry: LogEntry, message: Message, late = (): boolean => false): Promise<TopicValidatorResult> => {
    try {
      await ctx.check(entry)
      // A late pass is not handed on: the entry comes again with a heads exchange, and its verdict is cached.
      if (!late()) ctx.accepted(entry, message.data)
      return TopicValidatorResult.Accept
    } catch (err) {
      if (!late()) ctx.rejected(entry, err)
      // An entry whose past could not be fetched may be fine later; only a verdict is a rejection.
      return err instanceof EntryRejectedError && err.reason === 'unavailable' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
    }
  }
  // A stranger's entry whose past its sender does not serve cost fetches: that counts against the sender.
  const maxTurnMs = ctx.maxTurnMs ?? MAX_TURN_MS
  const judgeStranger = async (peer: PeerId, entry: LogEntry, message: Message, keep: (judging: Promise<unknown>) => void): Promise<TopicValidatorResult> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    let late = false
    const turnOver = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => {
        late = true
        resolve('late')
      }, maxTurnMs)
      // A node closing does not wait for a turn to end.
      timer.unref?.()
    })
    const judging = judge(entry, message, () => late)
    keep(judging)
    try {
      const verdict = await Promise.race([judging, turnOver])
      if (verdict !== 'late') return verdict === TopicValidatorResult.Ignore ? ignoreCounted(message, UNSERVED_WEIGHT) : verdict
      ctx.rejected(entry, new EntryRejectedError(entry.hash, textOf(entry.identity), 'unavailable', `the entry's past did not arrive within ${maxTurnMs / 1000} s; it is taken again if it comes again`))
      // Charged by the verdict it gets in the end, as if it had come in time.
      void judging.then((outcome) => {
        // A past not served counts only against the peer that published the entry (peer-penalties.ts).
        const points = outcome === TopicValidatorResult.Reject ? REFUSED_WEIGHT : outcome === TopicValidatorResult.Ignore && publishedBy(peer, message) ? UNSERVED_WEIGHT : 0
        if (points > 0) ctx.penalize?.(peer, points)
      })
      return TopicValidatorResult.Ignore
    } finally {
      clearTimeout(timer)
    }
  }
  return async (peer, message: Message) => {
    // Its own bytes (gossipsub-frames.ts copies them as they arrive; a copy here only if not):
    // a view into the whole received frame (up to 4 MiB) would keep it alive while the
    // message is queued. Replaced in place, so that gossipsub (which delivers this message
    // when it passes) holds no view either, and `ignoreCounted` marks the very message the
    // counting validator sees.
    message.data = ownBytes(message.data)
    if (message.type === 'signed' && message.signature instanceof Uint8Array) message.signature = ownBytes(message.signature)
    let entry: LogEntry
    try {
      entry = await Entry.decode(message.data)
    } catch (err) {
      ctx.rejected(undefined, new EntryRejectedError('(undecodable)', '(none)', 'malformed-entry', `not an oplog entry: ${(err as Error).message}`))
      return TopicValidatorResult.Reject
    }
    if (entry.id !== ctx.address) {
      ctx.rejected(entry, new EntryRejectedError(entry.hash, textOf(entry.identity), 'wrong-database', `the entry belongs to ${textOf(entry.id)}`))
      return TopicValidatorResult.Reject
    }
    // Held already: nothing to apply and nothing to forward. Not the sender's fault either:
    // anyone can wrap a replica's old entries in new messages, and honest peers pass them on.
    if (await ctx.has(entry.hash)) return TopicValidatorResult.Ignore
    const source = peer.toString()
    const bytes = message.data.byteLength
    // Known writers never wait behind strangers: they have a line of their own.
    // The key that signed, not only the DID claimed: anyone can claim a member's DID.
    const known = ctx.knows(textOf(entry.identity), `did:key:${textOf(entry.key)}`)
    // Under a flood, drop what cannot wait: a later entry or a heads exchange brings it again.
    const line = known ? members : ctx.invited?.(entry) === true ? invitees : strangers
    // A sender that already holds its share of the line and sends on is flooding it; one
    // that finds the line full of others' entries may be an honest peer passing on what it accepted.
    const noRoom = (): TopicValidatorResult => line.holdsShare(source, bytes) ? ignoreCounted(message, OVER_SHARE_WEIGHT) : TopicValidatorResult.Ignore
    // A known writer's entry that finds no room, or whose past does not come, is dropped and
    // charged nothing: an honest writer's burst, or its slow link, must never graylist it.
    // It comes again with a later write or a heads exchange.
    if (known) return line.join(source, bytes, async () => judge(entry, message)) ?? TopicValidatorResult.Ignore
    if (!line.hasRoom(source, bytes)) return noRoom()
    if (await unknownLinks(entry, ctx.has) > MAX_UNKNOWN_LINKS) {
      ctx.rejected(entry, new EntryRejectedError(entry.hash, textOf(entry.identity), 'unavailable', `a stranger's entry names more than ${MAX_UNKNOWN_LINKS} links this replica does not hold; it is taken with a heads exchange`))
      // Counted as a little refusal against its publisher only (a relay may hold that past): a sender of thousands of them is flooding.
      return ignoreCounted(message, OVER_SHARE_WEIGHT)
    }
    return line.join(source, bytes, async (keep) => judgeStranger(peer, entry, message, keep)) ?? noRoom()
  }
}

/** How many distinct links of `entry` this replica does not hold (counting stops past MAX_UNKNOWN_LINKS). */
async function unknownLinks (entry: LogEntry, has: (hash: string) => Promise<boolean>): Promise<number> {
  const links = new Set<unknown>([...(Array.isArray(entry.next) ? entry.next : []), ...(Array.isArray(entry.refs) ? entry.refs : [])])
  let unknown = 0
  for (const link of links) {
    if (typeof link !== 'string' || !(await has(link))) unknown++
    if (unknown > MAX_UNKNOWN_LINKS) break
  }
  return unknown
}

/**
 * A queue bounded by its length and by the bytes of the messages it holds, of which one
 * sender (the peer a message came from) may hold a quarter: a few peers cannot fill it.
 */
class Line {
  /** Messages held: waiting, judged, or judged on after their turn. */
  #count = 0
  #bytes = 0
  readonly #bySource = new Map<string, { count: number, bytes: number }>()
  readonly #maxCount: number
  constructor (readonly queue: Queue<TopicValidatorResult>) {
    this.#maxCount = queue.maxSize ?? Number.POSITIVE_INFINITY
  }

  /** Whether `source` holds its whole share of the line: no more from it, in count or in `bytes` more. */
  holdsShare (source: string, bytes: number): boolean {
    const held = this.#bySource.get(source) ?? { count: 0, bytes: 0 }
    return held.count >= Math.max(1, this.#maxCount / SOURCES_TO_FILL) || held.bytes + bytes > MAX_LINE_BYTES / SOURCES_TO_FILL
  }

  hasRoom (source: string, bytes: number): boolean {
    return this.#count < this.#maxCount && this.#bytes + bytes <= MAX_LINE_BYTES && !this.holdsShare(source, bytes)
  }

  /**
   * Judge in turn, or undefined when the line has no room. The message stays counted (count
   * and bytes) until the turn ends and whatever `judge` hands to `keep` (a judgment that outlives
   * its turn) settles: work in the background is bounded by the line too.
   */
  join (source: string, bytes: number, judge: (keep: (work: Promise<unknown>) => void) => Promise<TopicValidatorResult>): Promise<TopicValidatorResult> | undefined {
    if (!this.hasRoom(source, bytes)) return undefined
    const held = this.#bySource.get(source) ?? { count: 0, bytes: 0 }
    this.#bySource.set(source, { count: held.count + 1, bytes: held.bytes + bytes })
    this.#count++
    this.#bytes += bytes
    let kept: Promise<unknown> = Promise.resolve()
    const turn = this.queue.add(async () => judge((work) => { kept = work }))
    const release = (): void => {
      this.#count--
      this.#bytes -= bytes
      const now = this.#bySource.get(source) as { count: number, bytes: number }
      if (now.count === 1) this.#bySource.delete(source)
      else this.#bySource.set(source, { count: now.count - 1, bytes: now.bytes - bytes })
    }
    void turn.then(async () => kept, async () => kept).then(release, release)
    return turn
  }
}

/** A field an attacker chose, as text for a message: `String()` throws on a map like `{ toString: 1 }`. */
function textOf (value: unknown): string {
  return typeof value === 'string' ? value : '(none)'
}
