import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createDidbase } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { kinds } from './src/kinds.js'
import { connect, peer, tempDir, waitFor } from './src/peers.js'

describe('restart from disk', () => {
  it('keeps the identity file private', async () => {
    const dir = await tempDir()
    const p = await createDidbase({ directory: dir })
    await p.close()
    expect((await stat(join(dir, 'identity.json'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'peer.key'))).mode & 0o777).toBe(0o600)
  })

  it.each(kinds)('$name: same DID and peer id, same data, and sync resumes', async (kind) => {
    const dir = await tempDir()
    const first = await createDidbase({ directory: dir })
    const did = first.did
    const peerId = first.peerId
    const db = await kind.create(first, 'durable')
    for (let i = 0; i < 5; i++) await db.write(i)
    const rowsBefore = await db.rows()
    const address = db.address
    await first.close()

    const again = await createDidbase({ directory: dir })
    try {
      expect(again.did).toBe(did)
      expect(again.peerId).toBe(peerId)
      const reopened = await kind.open(again, address)
      expect(await reopened.rows()).toEqual(rowsBefore)

      // A peer that was never connected catches up, then follows new writes.
      const other = await peer()
      await connect(other, again)
      const replica = await kind.open(other, address)
      await waitFor(async () => (await replica.rows()).length === 5, 'catch-up after restart')
      await reopened.write(5)
      const rows = await waitFor(async () => {
        const r = await replica.rows()
        return r.length === 6 ? r : undefined
      }, 'a write made after restart')
      expect(rows).toEqual(await reopened.rows())
    } finally {
      await again.close()
    }
  })
})
