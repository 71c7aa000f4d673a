/**
 * `didbase peer` as a separate process: it serves a database while its writer is offline.
 * A writer writes while the peer is up, goes away; a new reader gets everything from the
 * peer alone. SIGTERM stops the peer cleanly.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'

// Every command here is a process that loads the whole libp2p stack (about 3 s alone, far
// more on a 2-core machine running the other suites), and these tests run many of them.
vi.setConfig({ testTimeout: 180_000 })
import { didbase, startPeerProcess as startPeer } from './src/cli.js'
import { peer, tempDir, waitFor } from './src/peers.js'

describe('didbase peer', () => {
  it('keeps serving a database while its writer is offline, and stops cleanly on SIGTERM', async () => {
    const writer = await peer()
    const db = await writer.keyValue<string>('kept-online')
    await db.put('first', 'before the peer')
    const p = startPeer(['--dir', await tempDir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--serve', db.address, '--peer', writer.multiaddrs[0] as string])
    try {
      await waitFor(() => p.lines.some((l) => l.event === 'serving'), 'the peer to serve the database')
      const hashes = [await db.put('second', 'while the peer is up'), await db.put('third', 'still up')]
      // The last write links to the one before: a replica that joins it holds both, and announces
      // an update for the entry it was handed (both, if the first came alone; the last only, if together).
      await waitFor(() => p.lines.some((l) => l.event === 'update' && l.entry === hashes[1]), 'the peer to replicate the writes').catch((err: Error) => {
        // What the peer said, to tell a write it never got from one it refused or lost.
        err.message += `\nthe peer's last log lines: ${JSON.stringify(p.lines.slice(-30))}\nthe writes: ${JSON.stringify(hashes)}`
        throw err
      })
      const address = p.lines.find((l) => l.event === 'listening')?.address as string
      await writer.close()

      const reader = await peer()
      await reader.dial(address)
      const onReader = await reader.keyValue<string>(db.address)
      await waitFor(async () => (await onReader.get('third')) === 'still up' && (await onReader.get('second')) === 'while the peer is up' && (await onReader.get('first')) === 'before the peer', 'the reader to get everything from the peer')
    } finally {
      p.child.kill('SIGTERM')
    }
    expect(await p.exited).toBe(0)
    expect(p.lines.map((l) => l.event)).toContain('stopped')
  })

  it('reads a config file, keeps what its creators pin (from the CLI), refuses the rest, and serves it after a restart', async () => {
    const alice = await tempDir()
    const mallory = await tempDir()
    const aliceDid = JSON.parse((await didbase(alice, 'init', '--json')).stdout).did as string
    const config = join(await tempDir(), 'peer.json')
    const peerDir = await tempDir()
    await writeFile(config, JSON.stringify({ dir: peerDir, listen: ['/ip4/127.0.0.1/tcp/0'], creators: [aliceDid], relay: false }))
    let p = startPeer(['--config', config])
    let address = ''
    try {
      await waitFor(() => p.lines.some((l) => l.event === 'listening'), 'the peer to listen')
      const peerAddress = p.lines.find((l) => l.event === 'listening')?.address as string

      address = (await didbase(alice, 'create', 'keyvalue', 'notes')).stdout
      await didbase(alice, 'put', address, 'n1', '"kept while alice is away"')
      const pinned = await didbase(alice, 'pin', address, '--peer', peerAddress, '--json')
      expect(pinned.code).toBe(0)
      expect(p.lines.find((l) => l.event === 'pinned')).toMatchObject({ db: address, entries: 1 })

      const other = (await didbase(mallory, 'create', 'keyvalue', 'spam')).stdout
      const refused = await didbase(mallory, 'pin', other, '--peer', peerAddress, '--json')
      expect(refused.code).toBe(2)
      expect(JSON.parse(refused.stderr)).toMatchObject({ error: 'PinRefusedError', reason: 'not-allowed' })
      expect(p.lines.filter((l) => l.event === 'serving').map((l) => l.db)).toEqual([address])
    } finally {
      p.child.kill('SIGINT')
    }
    expect(await p.exited).toBe(0)

    // Restarted with no list at all, it serves what it kept, to a reader that only knows the peer.
    p = startPeer(['--config', config])
    try {
      await waitFor(() => p.lines.some((l) => l.event === 'serving'), 'the restarted peer to serve')
      const peerAddress = p.lines.find((l) => l.event === 'listening')?.address as string
      const reader = await tempDir()
      expect((await didbase(reader, 'sync', address, '--peer', peerAddress)).code).toBe(0)
      expect(JSON.parse((await didbase(reader, 'get', address, 'n1', '--json')).stdout)).toMatchObject({ value: 'kept while alice is away' })
    } finally {
      p.child.kill('SIGTERM')
    }
    expect(await p.exited).toBe(0)
  })

  it('refuses a config file with a mistake, naming it, with exit code 1', async () => {
    const config = join(await tempDir(), 'peer.json')
    await writeFile(config, JSON.stringify({ listen: '/ip4/127.0.0.1/tcp/0' }))
    const p = startPeer(['--config', config])
    expect(await p.exited).toBe(1)
    await writeFile(config, JSON.stringify({ lisen: ['/ip4/127.0.0.1/tcp/0'] }))
    const run = await didbase(await tempDir(), 'peer', '--config', config)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('unknown key "lisen"')
  })
})
