/**
 * `didbase peer` as a separate process: it serves a database while its writer is offline.
 * A writer writes while the peer is up, goes away; a new reader gets everything from the
 * peer alone. SIGTERM stops the peer cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { peer, tempDir, waitFor } from './src/peers.js'

const bin = fileURLToPath(new URL('../packages/sdk/bin/didbase.js', import.meta.url))

interface LogLine { event: string, [key: string]: unknown }

function startPeer (args: string[]): { child: ChildProcess, lines: LogLine[], exited: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, 'peer', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: LogLine[] = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as LogLine)
    } catch {
      lines.push({ event: 'text', line })
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, lines, exited }
}

describe('didbase peer', () => {
  it('keeps serving a database while its writer is offline, and stops cleanly on SIGTERM', async () => {
    const writer = await peer()
    const db = await writer.keyValue<string>('kept-online')
    await db.put('first', 'before the peer')
    const p = startPeer(['--dir', await tempDir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--serve', db.address, '--peer', writer.multiaddrs[0] as string])
    try {
      await waitFor(() => p.lines.some((l) => l.event === 'serving'), 'the peer to serve the database')
      const hashes = [await db.put('second', 'while the peer is up'), await db.put('third', 'still up')]
      await waitFor(() => hashes.every((h) => p.lines.some((l) => l.event === 'update' && l.entry === h)), 'the peer to replicate the writes')
      const address = p.lines.find((l) => l.event === 'listening')?.address as string
      await writer.close()

      const reader = await peer()
      await reader.dial(address)
      const onReader = await reader.keyValue<string>(db.address)
      await waitFor(async () => (await onReader.get('third')) === 'still up' && (await onReader.get('first')) === 'before the peer', 'the reader to get everything from the peer')
    } finally {
      p.child.kill('SIGTERM')
    }
    expect(await p.exited).toBe(0)
    expect(p.lines.map((l) => l.event)).toContain('stopped')
  })
})
