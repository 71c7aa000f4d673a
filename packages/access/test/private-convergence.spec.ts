/**
 * Convergence of private databases, as a property: two founding admins and two others grant
 * and revoke roles (readers included), rotate keys, share missing keys, invite, and write
 * sealed values while partitioned. Fresh replicas receive every entry in different orders.
 * Every replica gives every entry the same verdict and ends with the same roles and epochs,
 * and every actor can read exactly the same values whichever replica it reads from.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecryptionError } from '../src/errors.js'
import { createDidKeyIdentity, type DidKeyIdentity } from '../src/did/identity.js'
import { createInvite } from '../src/invite/invite.js'
import type { Judge, JudgeRules, LoadedEntry } from '../src/judge/judge.js'
import { type AclState, membersOf } from '../src/policy/acl-state.js'
import { membersWithout } from '../src/private/key-holders.js'
import type { Role } from '../src/policy/operations.js'
import type { PrivateField } from '../src/policy/policy-block.js'
import { POLICY_SHARE } from '../src/private/database-keys.js'
import { shareKey } from '../src/private/epoch-keys.js'
import { epochLabel, Keyring } from '../src/private/keyring.js'
import { epochField } from '../src/private/sealed-value.js'
import { newKey, open, seal } from '../src/private/sealed.js'
import { GENESIS_EPOCH } from '../src/policy/share-shape.js'
import { heads, History, shuffled, verdict } from './history.js'

const actors = [createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity()] as DidKeyIdentity[]
const did = (i: number): string => (actors[i] as DidKeyIdentity).did
const rules: JudgeRules = { admins: [did(0), did(1)], writers: [], readers: [did(3)], mutable: true, ownership: false, private: true }

type Step =
  | { t: 'grant' | 'revoke', by: number, role: Role, target: number }
  | { t: 'rotate' | 'share', by: number }
  | { t: 'invite', by: number, target: number, role: Role }
  | { t: 'put', by: number, key: string }
  | { t: 'sync', from: number, to: number }

const actor = fc.integer({ min: 0, max: 3 })
const admin = fc.integer({ min: 0, max: 1 })
const target = fc.integer({ min: 2, max: 3 })
const role = fc.constantFrom<Role>('writer', 'reader', 'admin')
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constantFrom('grant' as const, 'revoke' as const), by: admin, role, target }),
  fc.record({ t: fc.constantFrom('rotate' as const, 'share' as const), by: admin }),
  fc.record({ t: fc.constant('invite' as const), by: admin, target, role: fc.constantFrom<Role>('writer', 'reader') }),
  fc.record({ t: fc.constant('put' as const), by: actor, key: fc.constantFrom('a', 'b') }),
  fc.record({ t: fc.constant('sync' as const), from: actor, to: actor })
)

/** Null when the step cannot be made from this view: its author lacks a key it needs. */
async function keyed<T> (make: () => Promise<T>): Promise<T | null> {
  try {
    return await make()
  } catch (err) {
    if (err instanceof DecryptionError) return null
    throw err
  }
}

/** Play the steps; each actor appends on top of its own view, with the keys it can find. */
async function play (steps: Step[], privacy: PrivateField): Promise<History> {
  const h = new History()
  // Authors look keys up in what has been written so far, as if every share reached them.
  const author = h.judge(rules)
  const rings = actors.map((a) => new Keyring(a, h.address, privacy, () => author.keys))
  const views = actors.map(() => new Set<string>())
  for (const s of steps) {
    if (s.t === 'sync') {
      for (const hash of views[s.from] as Set<string>) (views[s.to] as Set<string>).add(hash)
      continue
    }
    const by = s.t === 'invite' ? s.target : s.by
    const view = views[by] as Set<string>
    const parents = heads(view, h)
    const me = actors[by] as DidKeyIdentity
    const ring = rings[s.by] as Keyring
    let state: AclState
    try {
      state = await author.stateAt(parents)
    } catch {
      continue // its view holds a rejected entry: nothing it writes on top of it could count
    }
    let entry: LoadedEntry | null = null
    if (s.t === 'grant') {
      entry = await keyed(async () => h.acl(me, { action: 'grant', role: s.role, did: did(s.target), keys: await ring.sharesFor([did(s.target)], state.epochs) }, parents))
    } else if (s.t === 'revoke') {
      entry = await keyed(async () => h.acl(me, { action: 'revoke', role: s.role, did: did(s.target), rekey: await ring.rekey(membersWithout(state, s.role, did(s.target)), state.epochs) }, parents))
    } else if (s.t === 'rotate') {
      entry = await keyed(async () => h.acl(me, { action: 'rotate-key', rekey: await ring.rekey(membersOf(state), state.epochs) }, parents))
    } else if (s.t === 'share') {
      const members = membersOf(state)
      const missing = state.epochs.flatMap((e) => members.filter((d) => !(state.keyHolders.get(e)?.has(d) ?? false)).map((d) => [e, d] as const))
      if (missing.length === 0) continue
      entry = await keyed(async () => h.acl(me, { action: 'share', keys: await Promise.all(missing.map(async ([e, d]) => (await ring.sharesFor([d], [e]))[0] as never)) }, parents))
    } else if (s.t === 'invite') {
      const inviter = actors[s.by] as DidKeyIdentity
      entry = await keyed(async () => {
        const token = await createInvite(inviter, { address: h.address, audience: me.did, role: s.role, expiresIn: 3_600_000, keys: await ring.sharesFor([me.did], state.epochs) })
        return h.acl(me, { action: 'redeem', token }, parents)
      })
    } else {
      const writer = rings[by] as Keyring
      const { key } = s as Extract<Step, { t: 'put' }>
      entry = await keyed(async () => {
        const sealed = seal(await writer.sealingKey(state.epochs), new TextEncoder().encode(`${by}:${key}`), { address: h.address, epoch: epochLabel(state.epochs), record: key })
        return h.write(me, { op: 'PUT', key, value: { v: 1, ...sealed, ...epochField(state.epochs) } }, parents)
      })
    }
    if (entry === null) continue
    await verdict(author, entry)
    view.add(entry.hash)
  }
  return h
}

/** What a replica ends with: verdicts, roles and epochs at its accepted heads, and what each actor reads there. */
async function replicate (h: History, privacy: PrivateField, judge: Judge, order: string[]) {
  const verdicts: Record<string, string> = {}
  for (const hash of order) verdicts[hash] = await verdict(judge, h.entries.get(hash) as LoadedEntry)
  const accepted = Object.keys(verdicts).filter((hash) => verdicts[hash] === 'accepted').sort()
  const linked = new Set(accepted.flatMap((hash) => h.entries.get(hash)?.next ?? []))
  const state = await judge.stateAt(accepted.filter((hash) => !linked.has(hash)))
  const reads: string[][] = []
  for (const a of actors) {
    const ring = new Keyring(a, h.address, privacy, () => judge.keys)
    const readable: string[] = []
    for (const hash of accepted) {
      const p = (h.entries.get(hash) as LoadedEntry).payload as { op: string, key: string, value: { nonce: Uint8Array, ciphertext: Uint8Array, e?: string[] } }
      if (p.op !== 'PUT') continue
      const epochs = p.value.e ?? [GENESIS_EPOCH]
      try {
        readable.push(`${hash}=${new TextDecoder().decode(open(await ring.sealingKey(epochs), p.value, { address: h.address, epoch: epochLabel(epochs), record: p.key }))}`)
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err
      }
    }
    reads.push(readable)
  }
  return { verdicts, admins: [...state.admins].sort(), writers: [...state.writers].sort(), readers: [...state.readers].sort(), epochs: state.epochs, reads }
}

describe('private databases converge under reordering and partitions', () => {
  it('three replicas reach identical verdicts, roles and epochs, and every actor reads the same everywhere', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), fc.tuple(fc.integer(), fc.integer()), async (steps, seeds) => {
        const privacy: PrivateField = { readers: [did(3)], share: await shareKey(newKey(), [did(0), did(1), did(3)], POLICY_SHARE) as never }
        const h = await play(steps, privacy)
        const hashes = [...h.entries.keys()]
        const reference = await replicate(h, privacy, h.judge(rules), hashes)
        for (const seed of seeds) expect(await replicate(h, privacy, h.judge(rules), shuffled(hashes, seed))).toEqual(reference)
      }),
      { numRuns: 30 }
    )
  })
})
