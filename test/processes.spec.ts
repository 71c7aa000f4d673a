import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { collect, peer, tempDir, waitFor } from './src/peers.js'

const writerScript = fileURLToPath(new URL('./fixtures/writer-process.js', import.meta.url))

describe('two Node processes', () => {
  it('a reader in this process replicates what a writer process wrote, over loopback TCP', async () => {
    const N = 20
    const child = spawn(process.execPath, [writerScript, await tempDir(), String(N)], { stdio: ['pipe', 'pipe', 'inherit'] })
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
      const writer = JSON.parse(line) as { did: string, address: string, multiaddrs: string[] }
      expect(writer.multiaddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)

      const reader = await peer()
      expect(reader.did).not.toBe(writer.did)
      await reader.dial(writer.multiaddrs[0] as string)
      const log = await reader.eventLog<{ n: number }>(writer.address)
      const events = await waitFor(async () => {
        const e = await collect(log.entries())
        return e.length === N ? e : undefined
      }, `${N} events from the writer process`)
      expect(events.map((e) => e.value.n).sort((a, b) => a - b)).toEqual([...Array(N).keys()])
      expect(events.every((e) => e.writer === writer.did)).toBe(true)
    } finally {
      child.stdin.end()
      if (child.exitCode === null) await once(child, 'exit')
    }
  })
})
