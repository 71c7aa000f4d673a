/**
 * Wait until a peer holds an entry: its heads of the database (heads-query.ts) are the
 * entry, or entries this replica holds whose past reaches it. Asked again every
 * `POLL_MS` until it does, the signal aborts, or the peer says it does not have the
 * database open (`NotReplicatedError`).
 */
import type { LogEntry } from '@orbitdb/core'
import { raceSignal } from 'race-signal'
import { NotReplicatedError } from '../errors.js'

const POLL_MS = 200
/** Entries walked back from a peer's heads looking for the entry; a write just made is near them. */
const MAX_WALK = 10_000

export interface PeerHoldsInit {
  /** The peer's heads of the database, or undefined when it does not have it open. */
  query: (signal: AbortSignal) => Promise<string[] | undefined>
  /** An entry of this replica's log. */
  get: (hash: string) => Promise<LogEntry | undefined>
  /** For messages: the peer and the database. */
  peer: string
  address: string
}

export async function whenPeerHolds (init: PeerHoldsInit, hash: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted()
    const heads = await init.query(signal)
    if (heads === undefined) throw new NotReplicatedError(`peer ${init.peer} does not have ${init.address} open, so it does not replicate it; ask it to keep the database (didbase pin ${init.address} --peer ${init.peer.startsWith('/') ? init.peer : '<its address>'}), then write again`, init.peer)
    if (await reaches(init.get, heads, hash)) return
    await raceSignal(new Promise((resolve) => setTimeout(resolve, POLL_MS)), signal)
  }
}

/** Whether `hash` is one of `heads` or in the past of those this replica holds. */
async function reaches (get: PeerHoldsInit['get'], heads: readonly string[], hash: string): Promise<boolean> {
  const seen = new Set<string>()
  const stack = [...heads]
  while (stack.length > 0 && seen.size < MAX_WALK) {
    const at = stack.pop() as string
    if (at === hash) return true
    if (seen.has(at)) continue
    seen.add(at)
    const entry = await get(at)
    if (entry !== undefined) stack.push(...entry.next)
  }
  return false
}
