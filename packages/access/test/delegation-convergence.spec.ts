/**
 * Convergence with delegations, as a property: two users (root did:keys named as writers)
 * each delegate to devices, devices register sessions and write, users revoke devices, all
 * while partitioned. Fresh replicas receive every entry in different orders and must give
 * every entry the same verdict and end with the same records, sessions and revocations.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createDeviceDelegation } from '../src/delegation/device.js'
import { createDidKeyIdentity, type DidKeyIdentity } from '../src/did/identity.js'
import type { Judge, JudgeRules, LoadedEntry } from '../src/judge/judge.js'
import { heads, History, shuffled, verdict } from './history.js'

const ADDRESS = '/orbitdb/zdpuDelegationConvergence'
const users = [createDidKeyIdentity(), createDidKeyIdentity()] as DidKeyIdentity[]
// Devices 0-1 belong to user 0, 2-3 to user 1; device 4 claims user 0 with user 1's delegation.
const devices = [0, 1, 2, 3, 4].map(() => createDidKeyIdentity())
const ownerOf = [0, 0, 1, 1, 0]
const delegatorOf = [0, 0, 1, 1, 1]
const tokens = await Promise.all(devices.map(async (d, i) => createDeviceDelegation(users[delegatorOf[i] as number] as DidKeyIdentity, d.did, { scope: [ADDRESS] })))

type Step =
  | { t: 'session' | 'put', device: number, key?: string }
  | { t: 'revoke', user: number, device: number }
  | { t: 'sync', from: number, to: number }

// Views: one per device (0-4) and one per user root (5-6).
const view = fc.integer({ min: 0, max: 6 })
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant('session' as const), device: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ t: fc.constant('put' as const), device: fc.integer({ min: 0, max: 4 }), key: fc.constantFrom('a', 'b') }),
  fc.record({ t: fc.constant('revoke' as const), user: fc.integer({ min: 0, max: 1 }), device: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ t: fc.constant('sync' as const), from: view, to: view })
)

async function play (steps: Step[]): Promise<History> {
  const h = new History(ADDRESS)
  const views = [0, 1, 2, 3, 4, 5, 6].map(() => new Set<string>())
  let at = Date.now()
  for (const s of steps) {
    if (s.t === 'sync') {
      for (const hash of views[s.from] as Set<string>) (views[s.to] as Set<string>).add(hash)
      continue
    }
    at += 1000
    const who = s.t === 'revoke' ? 5 + s.user : s.device
    const seen = views[who] as Set<string>
    const parents = heads(seen, h)
    let entry: LoadedEntry
    if (s.t === 'revoke') {
      entry = await h.acl(users[s.user] as DidKeyIdentity, { action: 'revoke-device', did: (devices[s.device] as DidKeyIdentity).did, at }, parents)
    } else {
      const device = devices[s.device] as DidKeyIdentity
      const as = (users[ownerOf[s.device] as number] as DidKeyIdentity).did
      entry = s.t === 'session'
        ? await h.acl(device, { action: 'session', proof: [tokens[s.device] as string], at }, parents, { as })
        : await h.write(device, { op: 'PUT', key: s.key, value: `${s.device}`, at }, parents, { as })
    }
    seen.add(entry.hash)
  }
  return h
}

async function replicate (h: History, judge: Judge, order: string[]) {
  const verdicts: Record<string, string> = {}
  for (const hash of order) verdicts[hash] = await verdict(judge, h.entries.get(hash) as LoadedEntry)
  const accepted = Object.keys(verdicts).filter((hash) => verdicts[hash] === 'accepted')
  const linked = new Set(accepted.flatMap((hash) => h.entries.get(hash)?.next ?? []))
  const state = await judge.stateAt(accepted.filter((hash) => !linked.has(hash)))
  const records: Record<string, unknown> = {}
  const sorted = accepted.map((hash) => h.entries.get(hash) as LoadedEntry).sort((x, y) => x.clock.time - y.clock.time || x.hash.localeCompare(y.hash))
  for (const e of sorted) {
    const p = e.payload as { op: string, key: string, value: unknown }
    if (p.op === 'PUT') records[p.key] = `${e.identity} ${p.value as string}`
  }
  return { verdicts, records, sessions: [...state.sessions.keys()].sort(), revoked: [...state.revokedDevices].sort() }
}

describe('delegations converge under reordering and partitions', () => {
  it('three replicas reach identical verdicts, records, sessions and revocations in any order', async () => {
    const rules: JudgeRules = { admins: [], writers: users.map((u) => u.did), mutable: false, ownership: false }
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), fc.tuple(fc.integer(), fc.integer()), async (steps, seeds) => {
        const h = await play(steps)
        const hashes = [...h.entries.keys()]
        const reference = await replicate(h, h.judge(rules), hashes)
        for (const seed of seeds) expect(await replicate(h, h.judge(rules), shuffled(hashes, seed))).toEqual(reference)
        // A device whose delegation is from another user than it claims never gets an entry in.
        for (const [hash, v] of Object.entries(reference.verdicts)) {
          const e = h.entries.get(hash) as LoadedEntry
          if (e.key === (devices[4] as DidKeyIdentity).did.slice('did:key:'.length)) expect(v).not.toBe('accepted')
        }
      }),
      { numRuns: 40 }
    )
  })
})
