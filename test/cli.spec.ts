/**
 * The real `didbase` binary, run as a subprocess on a data directory: each call starts a
 * node on disk, does one thing and stops, so what one call writes the next one reads.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDidKeyIdentity } from '@didbase/access'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

// Every command here is a process that loads the whole libp2p stack (about 3 s alone, far
// more on a 2-core machine running the other suites), and these tests run many of them.
vi.setConfig({ testTimeout: 180_000 })
import { didbase, didbaseOnNode, jsonLines, type Run } from './src/cli.js'
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
    expect(await didbaseOnNode(forbid, dir, 'find', '--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('--where EXPR') })
    const { stdout: did } = await didbaseOnNode(forbid, dir, 'init', '--json')
    const shown = await didbaseOnNode(forbid, dir, 'id', '--json')
    expect(shown.code).toBe(0)
    const { did: created } = JSON.parse(did) as { did: string }
    expect(JSON.parse(shown.stdout)).toEqual({ user: created, did: created })
    const usages = [['frobnicate'], ['put', '/orbitdb/x', 'k'], ['add', '/orbitdb/x', 'not json'], ['sync', '/orbitdb/x'], ['invite', '/orbitdb/x', 'did:key:z', '--expires', 'soon'], ['--bogus'],
      ['find', '/orbitdb/x', '--where', 'author=alice'], ['find', '/orbitdb/x', '--sort', '-time', '--limit', '0'], ['find', '/orbitdb/x', '--count', '--sort', 'time'], ['list', '/orbitdb/x', '--limit', '2']]
    for (const usage of usages) {
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

  describe('find', () => {
    type Row = { key: string, value: { author: string, tag: string, stars: number, pinned?: boolean }, writer: string, hash: string, time: number }
    const alice = createDidKeyIdentity().did
    const bob = createDidKeyIdentity().did
    let dir: string
    let address: string
    let writer: string
    /** `didbase find <address> ...args`, which must succeed. */
    const find = async (...args: string[]): Promise<Run> => {
      const run = await didbase(dir, 'find', address, ...args)
      expect(run.code, `find ${args.join(' ')}: ${run.stderr}`).toBe(0)
      return run
    }

    // Four notes, each written by its own process, so each entry carries a later signed time.
    // The tests below read them: the directory outlives each test (tempDir's would not).
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'didbase-test-find-'))
      address = (await didbase(dir, 'create', 'documents', 'notes')).stdout
      writer = (await didbase(dir, 'id')).stdout
      for (const note of [
        { _id: 'n1', author: alice, tag: 'work', stars: 3 },
        { _id: 'n2', author: bob, tag: 'home', stars: 5, pinned: true },
        { _id: 'n3', author: alice, tag: 'home', stars: 1 },
        { _id: 'n4', author: alice, tag: 'work', stars: 4 }
      ]) {
        const put = await didbase(dir, 'put', address, note._id, JSON.stringify(note))
        expect(put.code, put.stderr).toBe(0)
      }
    }, 180_000)
    afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

    it('--where, --sort -time and --limit give one JSON record a line; the cursor on stderr goes to the next page until none follows', async () => {
      const query = ['--where', `value.author=${alice}`, '--sort', '-time', '--limit', '1']
      const first = await find(...query)
      const [n4] = jsonLines<Row>(first.stdout)
      expect(jsonLines(first.stdout)).toHaveLength(1)
      expect(n4).toEqual({ key: 'n4', value: { _id: 'n4', author: alice, tag: 'work', stars: 4 }, writer, hash: expect.stringMatching(/^zdpu/), time: expect.any(Number) })
      const more = /^more: --after (\S+)$/.exec(first.stderr)
      expect(more, first.stderr).not.toBeNull()
      // With --json the cursor is a JSON object, still on stderr: stdout holds records only.
      const second = await find(...query, '--after', more?.[1] as string, '--json')
      const [n3] = jsonLines<Row>(second.stdout)
      expect(n3?.key).toBe('n3')
      expect(n3?.time).toBeLessThan(n4?.time as number)
      const { cursor } = JSON.parse(second.stderr) as { cursor: string }
      const last = await find(...query, '--after', cursor, '--json')
      expect(jsonLines<Row>(last.stdout).map((r) => r.key)).toEqual(['n1'])
      expect(last.stderr).toBe('')
      // Repeated --where are and-ed; `in` takes a list; sort by a field of the value.
      const both = await find('--where', 'value.tag in work,home', '--where', 'value.stars>=3', '--sort', 'value.stars')
      expect(jsonLines<Row>(both.stdout).map((r) => [r.key, r.value.stars])).toEqual([['n1', 3], ['n4', 4], ['n2', 5]])
    })

    it('--count prints how many match; FIELD? and !FIELD? test that a field is there; --where-json takes the SDK\'s shape', async () => {
      expect((await find('--where', 'value.stars>=3', '--count')).stdout).toBe('3')
      expect(JSON.parse((await find('--where', '!value.pinned?', '--count', '--json')).stdout)).toEqual({ count: 3 })
      expect(jsonLines<Row>((await find('--where', 'value.pinned?')).stdout).map((r) => r.key)).toEqual(['n2'])
      const or = await find('--where-json', '{"or":[{"value.tag":"home"},{"value.stars":{"gt":3}}]}', '--sort', '-key')
      expect(jsonLines<Row>(or.stdout).map((r) => r.key)).toEqual(['n4', 'n3', 'n2'])
    })

    it('--explain says how a query runs: a scan, or through the index --index declares, which then gives the same records', async () => {
      const query = ['--where', `value.author=${alice}`, '--sort', '-time']
      expect(JSON.parse((await find(...query, '--explain', '--json')).stdout)).toEqual({ strategy: 'scan', ranged: [] })
      const explained = await find(...query, '--index', 'value.author,time', '--explain', '--json')
      expect(JSON.parse(explained.stdout)).toEqual({ strategy: 'index-order', index: ['value.author', 'time'], ranged: [`value.author eq ${JSON.stringify(alice)}`] })
      expect((await find(...query, '--index', 'value.author,time', '--explain')).stdout).toMatch(/^index-order on value\.author, time: /)
      const indexed = await find(...query, '--index', 'value.author,time')
      expect(jsonLines<Row>(indexed.stdout).map((r) => r.key)).toEqual(['n4', 'n3', 'n1'])
    })

    it('a bad query exits 1, names the bad part and prints nothing on stdout', async () => {
      const field = await didbase(dir, 'find', address, '--where', 'author=x')
      expect(field).toMatchObject({ code: 1, stdout: '' })
      expect(field.stderr).toContain('--where \'author=x\': unknown field "author"')
      expect(field.stderr).toContain('value.author')
      const sort = await didbase(dir, 'find', address, '--sort', 'time,-tme', '--json')
      expect(sort).toMatchObject({ code: 1, stdout: '' })
      expect(JSON.parse(sort.stderr)).toMatchObject({ error: 'UsageError', exitCode: 1, message: expect.stringContaining('--sort -tme: unknown field "tme"') })
      const operator = await didbase(dir, 'find', address, '--where-json', '{"value.stars":{"between":[1,3]}}', '--json')
      expect(operator).toMatchObject({ code: 1, stdout: '' })
      expect(JSON.parse(operator.stderr)).toMatchObject({ error: 'InvalidQueryError', exitCode: 1, message: expect.stringContaining('unknown operator "between"') })
      const cursor = await didbase(dir, 'find', address, '--after', 'not-a-cursor')
      expect(cursor).toMatchObject({ code: 1, stdout: '' })
      expect(cursor.stderr).toContain('not a cursor')
      const { stdout: journal } = await didbase(dir, 'create', 'events', 'journal')
      const events = await didbase(dir, 'find', journal, '--where', 'value.stars>1')
      expect(events).toMatchObject({ code: 1, stdout: '' })
      expect(events.stderr).toContain('is an event log')
    })
  })
})
