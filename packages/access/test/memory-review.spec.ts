/**
 * What a review of what hostile entries leave in memory found, in the access package: a
 * refusal kept the DID and detail an author chose, however long; a delegation naming a
 * thousand long databases was verified once and kept. Each is bounded now.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { sha256 } from '@noble/hashes/sha2.js'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { describe, expect, it } from 'vitest'
import { cachedDelegations, verifyDelegation } from '../src/delegation/chain.js'
import { createDeviceDelegation } from '../src/delegation/device.js'
import { MAX_SCOPE_NAME } from '../src/delegation/link.js'
import { EntryRejectedError, MAX_REPORTED_DETAIL, MAX_REPORTED_DID } from '../src/errors.js'
import { createDidKeyIdentity } from '../src/did/identity.js'
import type { LoadedEntry } from '../src/judge/judge.js'
import { MAX_PREFETCHED, prefetchPast } from '../src/judge/prefetch.js'
import { History } from './history.js'

const founder = createDidKeyIdentity()
const stranger = createDidKeyIdentity()

describe('what a refusal keeps', () => {
  it('a stranger\'s entry claiming a 1 MiB DID is refused, and its refusal keeps a few hundred characters of it', async () => {
    const h = new History()
    const genesis = await h.put(founder, 'k', 'v')
    const entry = await h.put(stranger, 'k', 'mine', [genesis.hash])
    const forged = { ...entry, identity: `did:key:${'z'.repeat(1024 * 1024)}` } as LoadedEntry
    const judge = h.judge({ admins: [founder.did], writers: [], mutable: true, ownership: false, version: 2 })
    const refusal = await judge.judge(forged).then(() => undefined, (err: unknown) => err)
    expect(refusal).toBeInstanceOf(EntryRejectedError)
    const err = refusal as EntryRejectedError
    expect(err.did.length).toBeLessThan(MAX_REPORTED_DID + 40)
    expect(err.message.length).toBeLessThan(MAX_REPORTED_DID * 2 + MAX_REPORTED_DETAIL + 200)
    expect(err.did).toContain('characters)')
  })

  it('an error built with a long detail keeps at most the bound', () => {
    const err = new EntryRejectedError('zdpu', 'did:key:z6Mk', 'invalid-operation', 'x'.repeat(4 * 1024 * 1024))
    expect(err.detail.length).toBeLessThan(MAX_REPORTED_DETAIL + 40)
  })
})

describe('what the delegation cache keeps', () => {
  it(`a name longer than ${MAX_SCOPE_NAME} characters in a link's scope is dropped: it covers no database, and is not kept`, async () => {
    const device = createDidKeyIdentity()
    const token = await createDeviceDelegation(stranger, device.did, { scope: [`/orbitdb/${'a'.repeat(3000)}`, '/orbitdb/zdpuShort'] })
    expect((await verifyDelegation([token])).scope).toEqual(['/orbitdb/zdpuShort'])
  })

  it('a chain over 16 KiB is verified each time, never kept; a small one is verified once', async () => {
    const device = createDidKeyIdentity()
    const many = Array.from({ length: 1024 }, (_, i) => `/orbitdb/zdpu${String(i).padStart(200, '0')}`)
    const large = [await createDeviceDelegation(stranger, device.did, { scope: many })]
    const small = [await createDeviceDelegation(stranger, device.did, { scope: ['/orbitdb/zdpuSmall'] })]
    const before = cachedDelegations()
    expect((await verifyDelegation(large)).scope).toHaveLength(1024)
    expect(cachedDelegations()).toBe(before)
    expect((await verifyDelegation(small)).issuer).toBe(stranger.did)
    expect(cachedDelegations()).toBe(before + 1)
  })
})

describe('how far a judgement fetches ahead', () => {
  /** A canonical entry hash for a label (linksOf loads only those). */
  const names = new Map<string, string>()
  const hashOf = (label: string): string => {
    const hash = CID.createV1(dagCbor.code, Digest.create(0x12, sha256(new TextEncoder().encode(label)))).toString(base58btc)
    names.set(hash, label)
    return hash
  }
  const labelOf = (hash: string): string => names.get(hash) ?? hash
  const fanOut = (label: string): { next: string[], refs: string[] } => ({ next: Array.from({ length: 1024 }, (_, i) => hashOf(`${label}/${i}`)), refs: [] })

  it('the first entry of the past that cannot be fetched ends the prefetch: 32 served blocks naming 1,024 missing ones each cost one batch, not 32,768 fetches', async () => {
    let loads = 0
    const served = new Set(Array.from({ length: 32 }, (_, i) => `served-${i}`))
    const load = async (hash: string): Promise<{ next: string[], refs: string[] }> => {
      loads++
      if (served.has(labelOf(hash))) return fanOut(labelOf(hash))
      throw new Error(`no peer has ${hash}`)
    }
    const failed = await prefetchPast([...served].map(hashOf), load, () => false, () => {})
    expect(labelOf(failed?.hash ?? '')).toMatch(/^served-\d+\/\d+$/)
    expect(loads).toBeLessThanOrEqual(32 + 64)
  })

  it(`a level wider than ${MAX_PREFETCHED} is fetched ahead up to that many, and the walk fetches the rest`, async () => {
    let loads = 0
    const load = async (hash: string): Promise<{ next: string[], refs: string[] }> => {
      loads++
      const label = labelOf(hash)
      return label.split('/').length < 3 ? fanOut(label) : { next: [], refs: [] }
    }
    expect(await prefetchPast([hashOf('root')], load, () => false, () => {})).toBeUndefined()
    // The root, its 1,024 links, and one level of 16,384 of their 1,048,576.
    expect(loads).toBe(1 + 1024 + MAX_PREFETCHED)
    // A million hashes made and walked: about 20 s alone, three times that beside a browser
    // suite on two cores. The count decides, not the time.
  }, 180_000)

  it(`an honest history longer than ${MAX_PREFETCHED} entries is fetched ahead all the way`, async () => {
    const length = MAX_PREFETCHED * 2 + 10
    const chain = Array.from({ length }, (_, i) => hashOf(`chain-${i}`))
    const at = new Map(chain.map((h, i) => [h, i]))
    let loads = 0
    const load = async (hash: string): Promise<{ next: string[], refs: string[] }> => {
      loads++
      const i = at.get(hash) as number
      // Each entry links to the one before and, as OrbitDB's references do, to a few older ones.
      return { next: i + 1 < length ? [chain[i + 1] as string] : [], refs: [2, 4, 8].flatMap((d) => (i + d < length ? [chain[i + d] as string] : [])) }
    }
    expect(await prefetchPast([chain[0] as string], load, () => false, () => {})).toBeUndefined()
    expect(loads).toBeGreaterThanOrEqual(length)
    expect(loads).toBeLessThan(length * 1.1)
  })
})

describe('who skips the strangers\' line', () => {
  it('where \'*\' may write, only DIDs given a role by name are known; a stranger still waits with strangers', async () => {
    const named = createDidKeyIdentity()
    const h = new History()
    const genesis = await h.put(founder, 'k', 'v')
    const judge = h.judge({ admins: [founder.did], writers: ['*', named.did], mutable: true, ownership: false, version: 2 })
    await judge.judge(genesis)
    expect(judge.isMember(stranger.did)).toBe(true)
    expect(judge.isMember(stranger.did, stranger.did, { named: true })).toBe(false)
    expect(judge.isMember(named.did, named.did, { named: true })).toBe(true)
    expect(judge.isMember(founder.did, founder.did, { named: true })).toBe(true)
  })
})
