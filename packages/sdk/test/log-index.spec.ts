/** The log index on a real LevelDB on disk: what is put survives a close and a reopen; markReachable restores lost markers. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LogIndex, markReachable } from '../src/storage/log-index.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function place (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'didbase-log-index-'))
  dirs.push(dir)
  return join(dir, '_index')
}

async function hashesIn (index: LogIndex): Promise<string[]> {
  const out: string[] = []
  for await (const [hash] of index.iterator()) out.push(hash)
  return out.sort()
}

describe('LogIndex', () => {
  it('answers from memory at once and keeps every marker across a close', async () => {
    const path = await place()
    const index = new LogIndex()
    await index.bind(path)
    await index.put('a', new Uint8Array([1]))
    await index.put('b', new Uint8Array([1]))
    await index.del('b')
    expect(await index.get('a')).toBeDefined()
    expect(await index.get('b')).toBeUndefined()
    await index.close()

    const reopened = new LogIndex()
    await reopened.bind(path)
    expect(await hashesIn(reopened)).toEqual(['a'])
    await reopened.close()
  })

  it('fails every use with the bind error when its LevelDB cannot be opened', async () => {
    const path = await place()
    const holder = new LogIndex()
    await holder.bind(path)
    // LevelDB's lock refuses a second opener of the same directory.
    const second = new LogIndex()
    await expect(second.bind(path)).rejects.toThrow()
    await expect(second.get('a')).rejects.toThrow()
    await holder.close()
    await second.close()
  })

  it('markReachable marks what the heads reach, down to what is marked already', async () => {
    const path = await place()
    const writer = new LogIndex()
    await writer.bind(path)
    await writer.put('root', new Uint8Array([1]))
    await writer.close()
    const index = new LogIndex()
    await index.bind(path)
    const log = new Map([
      ['root', { hash: 'root', next: [], refs: [] }],
      ['mid', { hash: 'mid', next: ['root'], refs: [] }],
      ['head', { hash: 'head', next: ['mid'], refs: ['root'] }]
    ])
    const loaded: string[] = []
    index.repairWith(async (marks) => markReachable(marks, [log.get('head')!], async (hash) => {
      loaded.push(hash)
      return log.get(hash)
    }))
    // Questions wait for the repair.
    expect(await index.get('mid')).toBeDefined()
    expect(await hashesIn(index)).toEqual(['head', 'mid', 'root'])
    expect(loaded).toEqual(['mid'])
    await index.close()
  })
})
