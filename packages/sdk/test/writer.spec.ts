/**
 * The writer on stubbed parts, as js-libp2p tests its services on stubbed components: an
 * append log in memory and a stand-in policy whose verdicts the test controls. Real did:key
 * identities and real delegations; no node, no network.
 */
import { createDeviceIdentity, createDidKeyIdentity, type DidIdentity, EntryRejectedError, MAX_BATCH_BYTES, MAX_BATCH_OPS } from '@didbase/access'
import type { AccessPolicy, AclState } from '@didbase/access/internal'
import { describe, expect, it } from 'vitest'
import { type AppendLog, Writer } from '../src/replica/writer.js'

const ADDRESS = '/orbitdb/zdpuWriterTest'

/** A log in memory: each append becomes a head; `moveHeads` stands for an entry that arrived from a peer. */
class MemoryLog implements AppendLog {
  readonly appended: unknown[] = []
  #heads: string[] = []
  /** Appends to refuse with `reason`, as OrbitDB's own check would after the heads moved. */
  refuse: Array<EntryRejectedError['reason']> = []

  async heads (): Promise<string[]> {
    return [...this.#heads]
  }

  async append (payload: unknown): Promise<string> {
    const reason = this.refuse.shift()
    if (reason !== undefined) throw new EntryRejectedError('zdpuRefused', 'did:key:z6Mk', reason, 'the heads moved')
    this.appended.push(payload)
    const hash = `zdpu${this.appended.length}`
    this.#heads = [hash]
    return hash
  }

  moveHeads (hash: string): void {
    this.#heads = [hash]
  }
}

/** A policy that allows everything it is asked, remembers what it was asked, and holds no sessions. */
function policy (overrides: Partial<AccessPolicy> = {}): AccessPolicy & { asked: unknown[] } {
  const asked: unknown[] = []
  return {
    mutable: true,
    ownership: false,
    privacy: undefined,
    asked,
    check: async (_did: string, payload: unknown) => { asked.push(payload) },
    state: async () => ({ sessions: new Map() }) as unknown as AclState,
    ...overrides
  } as unknown as AccessPolicy & { asked: unknown[] }
}

function writer (identity: DidIdentity = createDidKeyIdentity(), p = policy()): { w: Writer, log: MemoryLog, p: ReturnType<typeof policy> } {
  const log = new MemoryLog()
  return { w: new Writer({ identity, address: ADDRESS, policy: p, log }), log, p }
}

describe('Writer', () => {
  it('append builds the entry for the heads it will link to, checks it, then appends it', async () => {
    const { w, log, p } = writer()
    log.moveHeads('zdpuFromPeer')
    const seen: string[][] = []
    const hash = await w.append(async (heads) => {
      seen.push(heads)
      return { op: 'PUT', key: 'k', value: 1 }
    })
    expect(hash).toBe('zdpu1')
    expect(seen).toEqual([['zdpuFromPeer']])
    // Dated with the writer's time (a data write); what was checked is what is appended.
    expect(p.asked).toEqual([{ op: 'PUT', key: 'k', value: 1, at: expect.any(Number) }])
    expect(log.appended).toEqual(p.asked)
  })

  it('append builds again for the new heads when the heads moved and the entry was refused for it, at most three tries', async () => {
    const { w, log } = writer()
    log.refuse = ['stale-key']
    let builds = 0
    const moving = async (heads: string[]): Promise<unknown> => {
      builds++
      // A rotation arrives while the first build is being appended.
      if (builds === 1) log.moveHeads('zdpuRotation')
      return { op: 'PUT', key: 'k', value: heads.join() }
    }
    expect(await w.append(moving)).toBe('zdpu1')
    expect(builds).toBe(2)
    expect(log.appended).toEqual([{ op: 'PUT', key: 'k', value: 'zdpuRotation', at: expect.any(Number) }])

    // A refusal for another reason, or with heads that did not move, is not tried again.
    log.refuse = ['not-a-writer']
    await expect(w.append(async () => ({ op: 'PUT', key: 'k', value: 2 }))).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-writer' })
    log.refuse = ['stale-key', 'stale-key', 'stale-key']
    let tries = 0
    await expect(w.append(async () => {
      tries++
      log.moveHeads(`zdpuMoved${tries}`)
      return { op: 'PUT', key: 'k', value: 3 }
    })).rejects.toMatchObject({ reason: 'stale-key' })
    expect(tries).toBe(3)
  })

  it('commit groups data writes issued together into one entry, each checked alone', async () => {
    const { w, log, p } = writer()
    const hashes = await Promise.all([1, 2, 3].map(async (n) => w.commit(async () => [{ op: 'PUT', key: `k${n}`, value: n }])))
    // The first is appended at once; the two issued meanwhile share the next entry.
    expect(new Set(hashes).size).toBeLessThanOrEqual(2)
    expect(p.asked).toHaveLength(3)
    expect(log.appended.length).toBe(new Set(hashes).size)
    expect(w.stats.operations).toBe(3)
  })

  it(`commit refuses a batch of more than ${MAX_BATCH_OPS} operations or ${MAX_BATCH_BYTES} bytes before anything is appended`, async () => {
    const { w, log } = writer()
    const many = Array.from({ length: MAX_BATCH_OPS + 1 }, (_, i) => ({ op: 'PUT' as const, key: `k${i}`, value: i }))
    await expect(w.commit(async () => many, {}, true)).rejects.toMatchObject({ name: 'InvalidValueError', message: expect.stringContaining(`at most ${MAX_BATCH_OPS} operations`) })
    const large = Array.from({ length: 3 }, (_, i) => ({ op: 'PUT' as const, key: `k${i}`, value: 'x'.repeat(400 * 1024) }))
    await expect(w.commit(async () => large, {}, true)).rejects.toMatchObject({ name: 'InvalidValueError', message: expect.stringContaining(`at most ${MAX_BATCH_BYTES} bytes`) })
    expect(log.appended).toEqual([])
  })

  it('a delegated key registers its delegation once, before its first write, and dates its data writes', async () => {
    const user = createDidKeyIdentity()
    const device = await createDeviceIdentity(user, { scope: [ADDRESS] })
    const { w, log } = writer(device)
    await w.commit(async () => [{ op: 'PUT', key: 'k', value: 1 }])
    await w.append(async () => ({ op: 'PUT', key: 'k', value: 2 }))
    const [session, first, second] = log.appended as Array<{ op: string, value: { action?: string }, at?: number }>
    expect(log.appended).toHaveLength(3)
    expect(session?.op).toBe('ACL')
    expect(session?.value.action).toBe('session')
    expect(typeof first?.at).toBe('number')
    expect(typeof second?.at).toBe('number')
  })

  it('refuses new writes once closed, with ClosedError, and appends nothing', async () => {
    const { w, log } = writer()
    w.close()
    await expect(w.commit(async () => [{ op: 'PUT', key: 'k', value: 1 }])).rejects.toMatchObject({ name: 'ClosedError' })
    await expect(w.append(async () => ({ op: 'PUT', key: 'k', value: 1 }))).rejects.toMatchObject({ name: 'ClosedError' })
    expect(log.appended).toEqual([])
  })
})
