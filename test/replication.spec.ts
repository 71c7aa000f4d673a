import { describe, expect, it } from 'vitest'
import { kinds } from './src/kinds.js'
import { connect, peer, waitFor } from './src/peers.js'

const N = 25

describe.each(kinds)('$name replication between two peers', (kind) => {
  it('replicates live: values and writer DIDs match while both are connected', async () => {
    const a = await peer()
    const b = await peer()
    await connect(b, a)
    const src = await kind.create(a, 'live')
    const dst = await kind.open(b, src.address)
    for (let i = 0; i < N; i++) await src.write(i)

    const rows = await waitFor(async () => {
      const r = await dst.rows()
      return r.length === N ? r : undefined
    }, `${N} ${kind.name} records on the replica`)
    expect(rows).toEqual(await src.rows())
    expect(new Set(rows.map((r) => r.writer))).toEqual(new Set([a.did]))
  })

  it('catches up: a peer that opens after the writes gets them all', async () => {
    const a = await peer()
    const src = await kind.create(a, 'catch-up')
    for (let i = 0; i < N; i++) await src.write(i)

    const b = await peer()
    await connect(b, a)
    const dst = await kind.open(b, src.address)
    const rows = await waitFor(async () => {
      const r = await dst.rows()
      return r.length === N ? r : undefined
    }, `${N} ${kind.name} records after catch-up`)
    expect(rows).toEqual(await src.rows())
    expect(rows.every((r) => r.writer === a.did)).toBe(true)
    expect(await dst.db.canWrite()).toBe(false)
  })
})
