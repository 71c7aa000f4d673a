/**
 * A write links to at most `MAX_NEXT` heads, so that however many heads a replica holds (a
 * writer's burst of siblings, say), its next write is one every replica accepts: replicas
 * refuse an entry with more than `MAX_LINKS` links. The heads it leaves out stay heads, and
 * the writes that follow link to them.
 *
 * Works around `@orbitdb/core` 4.0.0 `src/oplog/log.js` 138-176 (`append` links every head,
 * then makes the new entry the only head). With more heads than `MAX_NEXT`, the entry is made
 * here, linking the latest ones, and added with `joinEntry` (log.js 238-311), which keeps the
 * heads it does not reach. Delete when OrbitDB bounds the links of an appended entry.
 */
import { Entry, type Log, type LogEntry } from '@orbitdb/core'

/** Most heads a new entry links to; with OrbitDB's references it stays well under the replicas' limit of 1024 links. */
export const MAX_NEXT = 512

interface Clocked { hash: string, clock: { time: number } }

/** The heads a new entry links to: all of them, or the `MAX_NEXT` latest (by clock, then hash). */
export function linkedHeads<T extends Clocked> (heads: readonly T[]): T[] {
  if (heads.length <= MAX_NEXT) return [...heads]
  return [...heads].sort((a, b) => b.clock.time - a.clock.time || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)).slice(0, MAX_NEXT)
}

type Append = Log['append']

export function boundAppend (log: Log): void {
  const append: Append = log.append.bind(log)
  log.append = (async (data: unknown, options?: { referencesCount: number }) => {
    const heads = await log.heads() as LogEntry[]
    if (heads.length <= MAX_NEXT) return append(data, options)
    const next = linkedHeads(heads as unknown as Array<LogEntry & Clocked>)
    const time = Math.max(...next.map((h) => h.clock.time)) + 1
    const identity = log.identity as unknown as { publicKey: string, hash: string }
    const entry = await Entry.create(log.identity, log.id, data, undefined, { id: identity.publicKey, time }, next.map((h) => h.hash), [])
    const { hash } = await Entry.encode(entry)
    const hashed = { ...entry, hash } as LogEntry
    if (!(await log.access.canAppend(hashed))) throw new Error(`Could not append entry:\nKey "${identity.hash}" is not allowed to write to the log`)
    await log.joinEntry(hashed)
    return hashed
  }) as Append
}
