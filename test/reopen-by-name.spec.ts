/**
 * Databases this version makes carry a rules version in their policy block, so the same name
 * and options make another address than before. Opening by name in a directory an earlier
 * version wrote must still find the database it made there (test/fixtures/format-1).
 */
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
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
