/**
 * Queries on a private database: members query it through indexes kept in memory; a
 * non-member that holds and serves it can neither query, count nor watch it; and after all
 * of them ran queries and closed, no plaintext value or record key is in any node's
 * `query-indexes` store, nor anywhere on the non-member's disk.
 */
import { join } from 'node:path'
import { createDidKeyIdentity } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { bytesUnder, connect, peer, tempDir, waitFor } from './src/peers.js'

type Secret = { title: string, rank: number }

describe('queries on a private database', () => {
  it('run for members from memory, are refused to a non-member, and leave no plaintext on disk', async () => {
    const [aliceDir, bobDir, holderDir] = [await tempDir(), await tempDir(), await tempDir()]
    const bobKey = createDidKeyIdentity()
    const alice = await peer({ directory: aliceDir })
    const bob = await peer({ directory: bobDir, identity: bobKey })
    const holder = await peer({ directory: holderDir })
    const indexes = [['value.rank'], ['value.title']] as const
    const secrets = await alice.keyValue<Secret>('secret-ranks', { private: true, readers: [bobKey.did], indexes })
    await secrets.batch((b) => { for (let i = 0; i < 6; i++) b.put(`SECRET-KEY-${i}`, { title: `SECRET-TITLE-${i}`, rank: i % 3 }) })
    const query = { where: { 'value.rank': { gte: 1 } }, sort: [['value.rank', 'desc']] as const, limit: 3 }
    expect(secrets.explain(query).strategy).toBe('index-order')
    const mine = await secrets.find(query)
    expect(mine.records.map((r) => [r.key, r.value.rank])).toEqual([['SECRET-KEY-5', 2], ['SECRET-KEY-2', 2], ['SECRET-KEY-4', 1]])

    await connect(bob, alice)
    await connect(holder, alice)
    const bobs = await bob.keyValue<Secret>(secrets.address, { indexes })
    const held = await holder.keyValue<Secret>(secrets.address, { indexes })
    await waitFor(async () => (await bobs.count()) === 6, 'the reader to hold every record')
    expect((await bobs.find(query)).records.map((r) => r.key)).toEqual(mine.records.map((r) => r.key))
    expect(await bobs.count({ 'value.title': { prefix: 'SECRET-TITLE-' } })).toBe(6)

    await waitFor(async () => (await held.size()) === (await secrets.size()), 'the non-member to hold the database')
    await expect(held.find(query)).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-reader' })
    await expect(held.count()).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-reader' })
    const refused = await new Promise<Error>((resolve) => { held.watch(query, { onError: resolve, onPage: () => { resolve(new Error('a page was handed out')) } }) })
    expect(refused).toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-reader' })

    await Promise.all([alice.close(), bob.close(), holder.close()])
    for (const [who, dir] of [['alice', aliceDir], ['bob', bobDir], ['holder', holderDir]] as const) {
      const indexFiles = await bytesUnder(join(dir, 'query-indexes'))
      expect(indexFiles.length, `${who} has a query-indexes store`).toBeGreaterThan(0)
      for (const bytes of indexFiles) expect(bytes.includes('SECRET-'), `${who}'s query indexes`).toBe(false)
    }
    for (const bytes of await bytesUnder(holderDir)) expect(bytes.includes('SECRET-'), 'the non-member\'s disk').toBe(false)
  })
})
