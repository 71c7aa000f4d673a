/**
 * Convergence of verdicts, as a property: four actors write grants, revocations, invites,
 * records and batches of records while partitioned (each appends on top of what it has seen, and syncs with
 * another now and then). Three fresh replicas then receive every entry in different
 * orders, fetching missing parents as a replica fetches blocks from peers. Every replica
 * must give every entry the same verdict and end with the same roles and records.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createDidKeyIdentity } from '../src/did/identity.js'
import { createInvite } from '../src/invite/invite.js'
import type { Judge, LoadedEntry } from '../src/judge/judge.js'
import { batchPayload, dataPayloadsOf, type DataPayload, type Role } from '../src/policy/operations.js'
import { heads, History, shuffled, verdict } from './history.js'

const actors = [createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity()]
const admins = [actors[0]?.did as string, actors[1]?.did as string]

type Step =
  | { t: 'grant' | 'revoke', by: number, role: Role, target: number }
  | { t: 'invite', by: number, target: number }
  | { t: 'put' | 'del', by: number, key: string }
  | { t: 'batch', by: number, ops: Array<{ t: 'put' | 'del', key: string }> }
  | { t: 'sync', from: number, to: number }

const actor = fc.integer({ min: 0, max: 3 })
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constantFrom('grant' as const, 'revoke' as const), by: fc.integer({ min: 0, max: 1 }), role: fc.constantFrom<Role>('writer', 'admin'), target: fc.integer({ min: 2, max: 3 }) }),
  fc.record({ t: fc.constant('invite' as const), by: fc.integer({ min: 0, max: 1 }), target: fc.integer({ min: 2, max: 3 }) }),
  fc.record({ t: fc.constantFrom('put' as const, 'del' as const), by: actor, key: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ t: fc.constant('batch' as const), by: actor, ops: fc.array(fc.record({ t: fc.constantFrom('put' as const, 'del' as const), key: fc.constantFrom('a', 'b', 'c') }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ t: fc.constant('sync' as const), from: actor, to: actor })
)

const record = (t: 'put' | 'del', key: string, by: number): DataPayload => (t === 'put' ? { op: 'PUT', key, value: `${by}` } : { op: 'DEL', key, value: null })

/** A played history, and for each batch the entries that write its operations alone on the same past (no one links to them). */
interface Played { h: History, twins: Map<string, string[]> }

/** Play the steps; each actor appends on top of its own view of the log. */
async function play (steps: Step[]): Promise<Played> {
  const h = new History()
  const twins = new Map<string, string[]>()
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
    } else if (s.t === 'batch') {
      const ops = s.ops.map((op) => record(op.t, op.key, by))
      entry = await h.write(author, batchPayload(ops), parents)
      twins.set(entry.hash, await Promise.all(ops.map(async (op) => (await h.write(author, op, parents)).hash)))
    } else {
      const { t, key } = s as Extract<Step, { t: 'put' | 'del' }>
      entry = await h.write(author, record(t, key, by), parents)
    }
    view.add(entry.hash)
  }
  return { h, twins }
}

/** What a replica ends with: each verdict, the roles at the accepted heads, the live records. */
async function replicate ({ h, twins }: Played, judge: Judge, order: string[]) {
  const verdicts: Record<string, string> = {}
  for (const hash of order) verdicts[hash] = await verdict(judge, h.entries.get(hash) as never)
  // A batch is accepted exactly when each of its operations would be alone, else refused as the first refused one.
  for (const [batch, alone] of twins) {
    const refused = alone.map((hash) => verdicts[hash]).find((v) => v !== 'accepted')
    expect(verdicts[batch]).toBe(refused ?? 'accepted')
  }
  const twin = new Set([...twins.values()].flat())
  const accepted = Object.keys(verdicts).filter((hash) => verdicts[hash] === 'accepted' && !twin.has(hash))
  const linked = new Set(accepted.flatMap((hash) => h.entries.get(hash)?.next ?? []))
  const state = await judge.stateAt(accepted.filter((hash) => !linked.has(hash)))
  // Last writer wins by (clock time, hash), as in OrbitDB's log order.
  const records: Record<string, unknown> = {}
  const sorted = accepted.map((hash) => h.entries.get(hash) as NonNullable<ReturnType<typeof h.entries.get>>)
    .sort((x, y) => x.clock.time - y.clock.time || x.hash.localeCompare(y.hash))
  for (const e of sorted) {
    for (const p of dataPayloadsOf(e.payload)) {
      if (p.op === 'PUT') records[p.key as string] = p.value
      if (p.op === 'DEL') delete records[p.key as string]
    }
  }
  return {
    verdicts,
    admins: [...state.admins].sort(),
    writers: [...state.writers].sort(),
    records
  }
}

describe('convergence under reordering and partitions', () => {
  // Founding writers who are not admins make ownership refusals, inside batches too, common.
  const variants = [{ ownership: false, writers: [] }, { ownership: true, writers: [] }, { ownership: true, writers: [actors[2]?.did as string, actors[3]?.did as string] }]
  for (const { ownership, writers } of variants) {
    it(`three replicas reach identical verdicts and state in any order${ownership ? ' (with ownership)' : ''}${writers.length > 0 ? ' (founding writers)' : ''}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), fc.tuple(fc.integer(), fc.integer(), fc.integer()), async (steps, seeds) => {
          const played = await play(steps)
          const { h } = played
          const hashes = [...h.entries.keys()]
          const rules = { admins, writers, mutable: true, ownership }
          const results = await Promise.all(seeds.map(async (seed) => replicate(played, h.judge(rules), shuffled(hashes, seed))))
          // The order entries were written in is a causal order: the reference.
          const reference = await replicate(played, h.judge(rules), hashes)
          for (const r of results) expect(r).toEqual(reference)
        }),
        { numRuns: 60 }
      )
    })
  }
})
