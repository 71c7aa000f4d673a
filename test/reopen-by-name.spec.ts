/**
 * A name opens the database it opened before, for every kind: databases this version makes
 * carry a rules version in their policy block, and a private database's address holds a
 * random key, so the same name and options alone would make another address. The node's
 * registry remembers each name; databases made before it are found in the directory's
 * stores (test/fixtures/format-1 and format-3). `databases()` lists what a node holds.
 */
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDidKeyIdentity } from '@didbase/access'
import { defineSchema, s } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { peer, tempDir } from './src/peers.js'

const fixture = fileURLToPath(new URL('./fixtures/format-1/', import.meta.url))

describe('opening by name a database an earlier version made', () => {
  it('finds the key-value, document and event-log databases of format-1, with their records', async () => {
    const expected = JSON.parse(await readFile(join(fixture, 'expected.json'), 'utf8')) as { bob: string, databases: Array<{ address: string, size: number }> }
    const directory = join(await tempDir(), 'data')
    await cp(join(fixture, 'data'), directory, { recursive: true })
    const node = await peer({ directory })
    const todo = defineSchema('Todo', s.struct({ title: s.string(), done: s.bool() }))
    const todos = await node.keyValue('todos', { schema: todo, acl: true, ownership: true })
    const notes = await node.documents('notes', { writers: [node.did, expected.bob] })
    const journal = await node.eventLog('journal')
    expect([todos.address, notes.address, journal.address]).toEqual(expected.databases.map((d) => d.address))
    expect(await todos.size()).toBe(expected.databases[0]!.size)
    // A name it never used makes a new database under the current rules.
    const fresh = await node.keyValue('todos-2', { acl: true })
    expect(expected.databases.map((d) => d.address)).not.toContain(fresh.address)
  })
})

describe('a name opens the same database every time, whatever its kind', () => {
  it('a private database reopened by name on the same directory is the same database, with its values; databases() lists it', async () => {
    const directory = await tempDir()
    const first = await peer({ directory })
    const notes = await first.documents<{ _id: string, text: string }>('team-notes', { acl: true, private: true })
    await notes.put({ _id: 'n1', text: 'sealed' })
    const address = notes.address
    await first.close()
    const again = await peer({ directory })
    const reopened = await again.documents<{ _id: string, text: string }>('team-notes', { acl: true, private: true })
    expect(reopened.address).toBe(address)
    expect(await reopened.get('n1')).toEqual({ _id: 'n1', text: 'sealed' })
    // Without the options too: the name asks for what it named.
    expect((await again.documents('team-notes')).address).toBe(address)
    const log = await again.eventLog('journal')
    await log.add('one')
    await log.close()
    expect(await again.databases()).toEqual([
      { name: 'team-notes', type: 'documents', address, policy: 'acl', private: true, size: 1, named: true },
      { name: 'journal', type: 'events', address: log.address, policy: 'writers', private: false, size: 1, named: true }
    ].sort((a, b) => (a.address < b.address ? -1 : 1)))
  })

  it('options that contradict the database a name opens fail with NameTakenError naming its address; nothing is made', async () => {
    const node = await peer()
    const board = await node.keyValue('board', { acl: true })
    const before = await node.databases()
    for (const options of [{ private: true }, { acl: false }, { writers: [createDidKeyIdentity().did] }, { ownership: true }]) {
      await expect(node.keyValue('board', options)).rejects.toMatchObject({ name: 'NameTakenError', address: board.address })
    }
    await expect(node.keyValue('board', { private: true })).rejects.toThrow(/board.*private was asked for/)
    expect(await node.databases()).toEqual(before)
    // Another type is another name.
    expect((await node.eventLog('board')).address).not.toBe(board.address)
  })

  it('finds the private databases of format-3, made before the registry, by name', async () => {
    const fixture3 = fileURLToPath(new URL('./fixtures/format-3/', import.meta.url))
    const expected = JSON.parse(await readFile(join(fixture3, 'expected.json'), 'utf8')) as { databases: Array<{ address: string, size: number }> }
    const directory = join(await tempDir(), 'data')
    await cp(join(fixture3, 'data'), directory, { recursive: true })
    const node = await peer({ directory, identity: createDidKeyIdentity({ seed: new Uint8Array(32).fill(21) }) })
    const listed = await node.databases()
    expect(listed.map((d) => d.address).sort()).toEqual(expected.databases.map((d) => d.address).sort())
    expect(listed.every((d) => !d.named)).toBe(true)
    const team = await node.keyValue('team', { acl: true, private: true })
    const journal = await node.eventLog('journal', { acl: true, private: true })
    expect([team.address, journal.address]).toEqual([expected.databases[0]!.address, expected.databases[1]!.address])
    expect(await team.size()).toBe(expected.databases[0]!.size)
    expect((await node.databases()).filter((d) => d.named).map((d) => d.name).sort()).toEqual(['journal', 'team'])
  })
})
