/**
 * Convergence of verdicts, as a property: four actors write grants, revocations, invites
 * and records while partitioned (each appends on top of what it has seen, and syncs with
 * another now and then). Three fresh replicas then receive every entry in different
 * orders, fetching missing parents as a replica fetches blocks from peers. Every replica
 * must give every entry the same verdict and end with the same roles and records.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createDidKeyIdentity } from '../src/identity/identity.js'
import { createInvite } from '../src/invite/invite.js'
import type { Judge, LoadedEntry } from '../src/judge/judge.js'
import type { Role } from '../src/policy/operations.js'
import { heads, History, shuffled, verdict } from './history.js'

const actors = [createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity()]
const admins = [actors[0]?.did as string, actors[1]?.did as string]

type Step =
  | { t: 'grant' | 'revoke', by: number, role: Role, target: number }
  | { t: 'invite', by: number, target: number }
  | { t: 'put' | 'del', by: number, key: string }
  | { t: 'sync', from: number, to: number }

const actor = fc.integer({ min: 0, max: 3 })
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constantFrom('grant' as const, 'revoke' as const), by: fc.integer({ min: 0, max: 1 }), role: fc.constantFrom<Role>('writer', 'admin'), target: fc.integer({ min: 2, max: 3 }) }),
  fc.record({ t: fc.constant('invite' as const), by: fc.integer({ min: 0, max: 1 }), target: fc.integer({ min: 2, max: 3 }) }),
  fc.record({ t: fc.constantFrom('put' as const, 'del' as const), by: actor, key: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ t: fc.constant('sync' as const), from: actor, to: actor })
)

/** Play the steps; each actor appends on top of its own view of the log. */
async function play (steps: Step[]): Promise<History> {
  const h = new History()
  const views = actors.map(() => new Set<string>())
  for (const s of steps) {
    if (s.t === 'sync') {
      for (const hash of views[s.from] as Set<string>) (views[s.to] as Set<string>).add(hash)
      continue
    }
    const by = s.t === 'invite' ? s.target : s.by
    const view = views[by] as Set<string>
    const parents = heads(view, h)
    const author = actors[by] as (typeof actors)[number]
    let entry: LoadedEntry
    if (s.t === 'grant' || s.t === 'revoke') {
      entry = await h.acl(author, { action: s.t, role: s.role, did: (actors[s.target] as typeof author).did }, parents)
    } else if (s.t === 'invite') {
      const token = await createInvite(actors[s.by] as typeof author, { address: h.address, audience: author.did, expiresIn: 3_600_000 })
      entry = await h.acl(author, { action: 'redeem', token, at: Date.now() }, parents)
    } else {
      const { t, key } = s as Extract<Step, { t: 'put' | 'del' }>
      entry = await h.write(author, t === 'put' ? { op: 'PUT', key, value: `${by}` } : { op: 'DEL', key, value: null }, parents)
    }
    view.add(entry.hash)
  }
  return h
}

/** What a replica ends with: each verdict, the roles at the accepted heads, the live records. */
async function replicate (h: History, judge: Judge, order: string[]) {
  const verdicts: Record<string, string> = {}
  for (const hash of order) verdicts[hash] = await verdict(judge, h.entries.get(hash) as never)
  const accepted = Object.keys(verdicts).filter((hash) => verdicts[hash] === 'accepted')
  const linked = new Set(accepted.flatMap((hash) => h.entries.get(hash)?.next ?? []))
  const state = await judge.stateAt(accepted.filter((hash) => !linked.has(hash)))
  // Last writer wins by (clock time, hash), as in OrbitDB's log order.
  const records: Record<string, unknown> = {}
  const sorted = accepted.map((hash) => h.entries.get(hash) as NonNullable<ReturnType<typeof h.entries.get>>)
    .sort((x, y) => x.clock.time - y.clock.time || x.hash.localeCompare(y.hash))
  for (const e of sorted) {
    const p = e.payload as { op: string, key: string, value: unknown }
    if (p.op === 'PUT') records[p.key] = p.value
    if (p.op === 'DEL') delete records[p.key]
  }
  return {
    verdicts,
    admins: [...state.admins].sort(),
    writers: [...state.writers].sort(),
    records
  }
}

describe('convergence under reordering and partitions', () => {
  for (const ownership of [false, true]) {
    it(`three replicas reach identical verdicts and state in any order${ownership ? ' (with ownership)' : ''}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), fc.tuple(fc.integer(), fc.integer(), fc.integer()), async (steps, seeds) => {
          const h = await play(steps)
          const hashes = [...h.entries.keys()]
          const rules = { admins, writers: [], mutable: true, ownership }
          const results = await Promise.all(seeds.map(async (seed) => replicate(h, h.judge(rules), shuffled(hashes, seed))))
          // The order entries were written in is a causal order: the reference.
          const reference = await replicate(h, h.judge(rules), hashes)
          for (const r of results) expect(r).toEqual(reference)
        }),
        { numRuns: 60 }
      )
    })
  }
})
