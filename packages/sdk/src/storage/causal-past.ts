/**
 * The SDK's one walk down a log's causal past: from some entries, depth first through
 * `next` and `refs`, through no entry twice, and never below an entry that `done` says is
 * taken care of already (indexed, marked). Without recursion, so a long history cannot
 * overflow the stack. The record index (databases/record-index.ts) and the log index's
 * repair after a crash (log-index.ts) walk with it.
 */

export interface LinkedEntry {
  hash: string
  next: readonly string[]
  refs: readonly string[]
}

export interface PastWalk<E extends LinkedEntry> {
  /** Whether the walk stops at `hash`: it, and everything it reaches, is taken care of. */
  done: (hash: string) => boolean | Promise<boolean>
  /** The entry `hash` names; undefined to leave it out (a block not stored here). */
  load: (hash: string) => Promise<E | undefined>
  /** Called once for each entry the walk goes through, before what it links to. */
  visit: (entry: E) => void | Promise<void>
}

/** Walk the past of `from` (those entries included); resolves to the hashes gone through. */
export async function walkPast<E extends LinkedEntry> (from: readonly E[], walk: PastWalk<E>): Promise<Set<string>> {
  const walked = new Set<string>()
  const stack = [...from]
  while (stack.length > 0) {
    const entry = stack.pop() as E
    if (walked.has(entry.hash) || await walk.done(entry.hash)) continue
    walked.add(entry.hash)
    await walk.visit(entry)
    for (const hash of [...entry.next, ...entry.refs]) {
      if (walked.has(hash) || await walk.done(hash)) continue
      const linked = await walk.load(hash)
      if (linked !== undefined) stack.push(linked)
    }
  }
  return walked
}
