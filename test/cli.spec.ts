/**
 * The real `didbase` binary, run as a subprocess on a data directory: each call starts a
 * node on disk, does one thing and stops, so what one call writes the next one reads.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDidKeyIdentity } from '@didbase/access'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it, vi } from 'vitest'

// Every command here is a process that loads the whole libp2p stack (about 3 s alone, far
// more on a 2-core machine running the other suites), and these tests run many of them.
vi.setConfig({ testTimeout: 180_000 })
import { didbase, didbaseOnNode } from './src/cli.js'
import { peer, tempDir } from './src/peers.js'

describe('didbase CLI', () => {
  it('init creates the identity once; id shows it; id without one says what to do', async () => {
    const dir = await tempDir()
    const empty = await didbase(dir, 'id')
    expect(empty.code).toBe(3)
    expect(empty.stderr).toContain('run: didbase init')
    const init = await didbase(dir, 'init', '--json')
    expect(init.code).toBe(0)
    const { did } = JSON.parse(init.stdout) as { did: string }
    expect(did).toMatch(/^did:key:z6Mk/)
    expect((await didbase(dir, 'init', '--json')).stdout).toBe(init.stdout)
    expect(await didbase(dir, 'id')).toMatchObject({ code: 0, stdout: did })
  })

  it('--help, init, id and usage errors load neither libp2p, Helia nor OrbitDB; a command that needs a node does', async () => {
    const dir = await tempDir()
    const forbid = ['--import', fileURLToPath(new URL('./fixtures/forbid-network-modules.js', import.meta.url))]
    expect(await didbaseOnNode(forbid, dir, '--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('didbase <command>') })
    const { stdout: did } = await didbaseOnNode(forbid, dir, 'init', '--json')
    const shown = await didbaseOnNode(forbid, dir, 'id', '--json')
    expect(shown.code).toBe(0)
    const { did: created } = JSON.parse(did) as { did: string }
    expect(JSON.parse(shown.stdout)).toEqual({ user: created, did: created })
    for (const usage of [['frobnicate'], ['put', '/orbitdb/x', 'k'], ['add', '/orbitdb/x', 'not json'], ['sync', '/orbitdb/x'], ['invite', '/orbitdb/x', 'did:key:z', '--expires', 'soon'], ['--bogus']]) {
      const run = await didbaseOnNode(forbid, dir, ...usage)
      expect(run.code, usage.join(' ')).toBe(1)
      expect(run.stderr).not.toContain('forbidden import')
    }
    // The hook does bite: creating a database must start a node.
    const create = await didbaseOnNode(forbid, dir, 'create', 'keyvalue', 'todos')
    expect(create.code).toBe(4)
    expect(create.stderr).toContain('forbidden import')
  })

  it('create, put, get, list, del with a schema; an invalid value exits 2 with its path', async () => {
    const dir = await tempDir()
    const schema = join(dir, 'todo.ipldsch')
    await writeFile(schema, 'type Todo struct {\n  title String\n  done Bool\n}\n')
    const created = await didbase(dir, 'create', 'keyvalue', 'todos', '--schema', schema, '--json')
    expect(created.code).toBe(0)
    const { address } = JSON.parse(created.stdout) as { address: string }
    expect((await didbase(dir, 'put', address, 'milk', '{"title":"Buy milk","done":false}')).code).toBe(0)
    const bad = await didbase(dir, 'put', address, 'beer', '{"title":42,"done":false}')
    expect(bad).toMatchObject({ code: 2 })
    expect(bad.stderr).toContain('/title: expected String, got Int')
    expect(JSON.parse((await didbase(dir, 'get', address, 'milk', '--json')).stdout)).toEqual({ key: 'milk', value: { title: 'Buy milk', done: false } })
    const list = JSON.parse((await didbase(dir, 'list', address, '--json')).stdout) as Array<{ key: string, writer: string }>
    expect(list.map((r) => r.key)).toEqual(['milk'])
    expect(list[0]?.writer).toBe((await didbase(dir, 'id')).stdout)
    expect((await didbase(dir, 'del', address, 'milk')).code).toBe(0)
    expect((await didbase(dir, 'get', address, 'milk')).code).toBe(3)
  })

  it('create --private: the creator reads back what it wrote; --readers without --private is a usage error', async () => {
    const dir = await tempDir()
    const reader = createDidKeyIdentity().did
    const created = await didbase(dir, 'create', 'keyvalue', 'secrets', '--private', '--readers', reader, '--json')
    expect(created.code).toBe(0)
    const { address } = JSON.parse(created.stdout) as { address: string }
    expect((await didbase(dir, 'put', address, 'milk', '"buy milk"')).code).toBe(0)
    expect(JSON.parse((await didbase(dir, 'get', address, 'milk', '--json')).stdout)).toEqual({ key: 'milk', value: 'buy milk' })
    const misuse = await didbase(dir, 'create', 'keyvalue', 'x', '--readers', reader)
    expect(misuse.code).toBe(1)
    expect(misuse.stderr).toContain('add --private')
  })

  it('create --private --acl: grant and revoke readers, rotate the key, and still read back; an unknown role is a usage error', async () => {
    const dir = await tempDir()
    const reader = createDidKeyIdentity().did
    const { stdout: address } = await didbase(dir, 'create', 'keyvalue', 'team', '--acl', '--private')
    expect((await didbase(dir, 'put', address, 'plan', '"ship it"')).code).toBe(0)
    expect((await didbase(dir, 'grant', address, 'reader', reader)).code).toBe(0)
    expect((await didbase(dir, 'rotate-key', address)).code).toBe(0)
    expect((await didbase(dir, 'revoke', address, 'reader', reader)).code).toBe(0)
    expect((await didbase(dir, 'put', address, 'next', '"after"')).code).toBe(0)
    const rows = JSON.parse((await didbase(dir, 'list', address, '--json')).stdout) as Array<{ key: string, value: unknown }>
    expect(rows.map((r) => [r.key, r.value]).sort()).toEqual([['next', 'after'], ['plan', 'ship it']])
    const unknownRole = await didbase(dir, 'grant', address, 'owner', reader)
    expect(unknownRole.code).toBe(1)
    expect(unknownRole.stderr).toContain('use admin, writer or reader')
  })

  it('device add / use / list / revoke: a phone\'s key writes for the root DID until revoked; id shows both', async () => {
    const [rootDir, phoneDir] = [await tempDir(), await tempDir()]
    const root = JSON.parse((await didbase(rootDir, 'init', '--json')).stdout) as { did: string }
    const phone = JSON.parse((await didbase(phoneDir, 'init', '--json')).stdout) as { did: string }
    const added = JSON.parse((await didbase(rootDir, 'device', 'add', phone.did, '--expires', '2h', '--json')).stdout) as { token: string, expiresAt: number }
    expect(JSON.parse((await didbase(rootDir, 'device', 'list', '--json')).stdout)).toMatchObject([{ did: phone.did, scope: ['*'] }])
    expect((await didbase(phoneDir, 'device', 'use', added.token)).code).toBe(0)
    expect(JSON.parse((await didbase(phoneDir, 'id', '--json')).stdout)).toEqual({ user: root.did, did: phone.did })
    const { stdout: address } = await didbase(phoneDir, 'create', 'keyvalue', 'todos')
    expect((await didbase(phoneDir, 'put', address, 'milk', '"from the phone"')).code).toBe(0)
    const rows = JSON.parse((await didbase(phoneDir, 'list', address, '--json')).stdout) as Array<{ key: string, writer: string }>
    expect(rows).toEqual([expect.objectContaining({ key: 'milk', writer: root.did })])
    expect((await didbase(phoneDir, 'device', 'revoke', address, phone.did)).code).toBe(0)
    const refused = await didbase(phoneDir, 'put', address, 'bread', '"after"', '--json')
    expect(refused.code).toBe(2)
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: 'AccessDeniedError', reason: 'device-revoked' })
    // A token for another key is refused before it is saved.
    expect((await didbase(rootDir, 'device', 'use', added.token)).code).toBe(2)
  })

  it('event logs: add and list; usage errors exit 1 and say what to do', async () => {
    const dir = await tempDir()
    const { stdout: address } = await didbase(dir, 'create', 'events', 'journal')
    expect((await didbase(dir, 'add', address, '"hello"')).code).toBe(0)
    expect((await didbase(dir, 'list', address)).stdout).toMatch(/^\S+\t"hello"\tdid:key:/)
    const put = await didbase(dir, 'put', address, 'k', '1')
    expect(put.code).toBe(1)
    expect(put.stderr).toContain('use: didbase add')
    expect((await didbase(dir, 'add', address, 'not json')).stderr).toContain('must be JSON')
    expect((await didbase(dir, 'frobnicate')).code).toBe(1)
    expect((await didbase(dir, 'create', 'table', 'x')).stderr).toContain('use keyvalue, documents or events')
  })

  it('ACL databases: grant and invite from the command line; --json errors carry the name and reason', async () => {
    const dir = await tempDir()
    const { stdout: address } = await didbase(dir, 'create', 'keyvalue', 'board', '--acl')
    const bob = createDidKeyIdentity().did
    expect((await didbase(dir, 'grant', address, 'writer', bob)).code).toBe(0)
    const invite = JSON.parse((await didbase(dir, 'invite', address, bob, '--expires', '2h', '--json')).stdout) as { token: string, expiresAt: number }
    expect(invite.token.split('.')).toHaveLength(3)
    expect(invite.expiresAt).toBeGreaterThan(Date.now() + 3_500_000)
    const notDid = await didbase(dir, 'grant', address, 'writer', 'bob', '--json')
    expect(notDid.code).toBe(2)
    expect(JSON.parse(notDid.stderr)).toMatchObject({ error: 'InvalidDidError', exitCode: 2 })
    expect((await didbase(dir, 'list', '/orbitdb/not-an-address')).code).toBe(1)
    const nobodyHasIt = `/orbitdb/${CID.create(1, 0x71, await sha256.digest(crypto.getRandomValues(new Uint8Array(16)))).toString(base58btc)}`
    const unknown = await didbase(dir, 'list', nobodyHasIt, '--json')
    expect(unknown.code).toBe(3)
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: 'UnknownDatabaseError' })
  })

  it('a write with --peer returns once the peer holds it and says so; a peer that does not replicate the database gets a non-zero exit that says to pin; ls lists the databases', async () => {
    const dir = await tempDir()
    const { did: cliDid } = JSON.parse((await didbase(dir, 'init', '--json')).stdout) as { did: string }
    const holder = await peer()
    const shared = await holder.keyValue<string>('shared', { writers: [holder.did, cliDid] })
    const put = await didbase(dir, 'put', shared.address, 'k', '"from the CLI"', '--peer', holder.multiaddrs[0] as string, '--json')
    expect(put.code, put.stderr).toBe(0)
    const { hash, heldBy } = JSON.parse(put.stdout) as { hash: string, heldBy: string[] }
    expect(heldBy).toEqual([holder.peerId])
    // Held, not merely sent: the holder's replica has it when the command returns.
    expect(await shared.get('k')).toBe('from the CLI')
    expect(await shared.heads()).toEqual([hash])
    const bystander = await peer()
    const lost = await didbase(dir, 'put', shared.address, 'k2', '"v2"', '--peer', bystander.multiaddrs[0] as string, '--json')
    expect(lost.code).toBe(4)
    expect(JSON.parse(lost.stderr)).toMatchObject({ error: 'NotReplicatedError' })
    expect(JSON.parse(lost.stderr).message).toContain(`didbase pin ${shared.address}`)
    await didbase(dir, 'create', 'events', 'journal')
    const listed = JSON.parse((await didbase(dir, 'ls', '--json')).stdout) as Array<{ name: string, address: string, size: number, named: boolean }>
    expect(listed.map(({ name, size, named }) => ({ name, size, named })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'journal', size: 0, named: true },
      // Opened by address here; its second write is saved here although no peer holds it.
      { name: 'shared', size: 2, named: false }
    ])
  })
})
