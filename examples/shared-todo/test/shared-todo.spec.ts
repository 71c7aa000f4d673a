/**
 * The shared-todo story with real devices: Helia, libp2p over loopback TCP and LevelDB on
 * disk in temporary directories. Asserts what the user sees on each device.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createDidbase, createDidKeyIdentity } from '@didbase/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runSharedTodo } from '../src/story.ts'
import { readList, Todo } from '../src/todo.ts'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'didbase-shared-todo-test-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('shared-todo', () => {
  it('two devices of one user (the phone with its own delegated key) change the list apart, converge, and the lost phone is refused once revoked', async () => {
    const identity = createDidKeyIdentity()
    const phoneKey = createDidKeyIdentity()
    const lines: string[] = []
    const phoneDirectory = join(root, 'phone')
    const result = await runSharedTodo({ laptopDirectory: join(root, 'laptop'), phoneDirectory, identity, phoneKey, log: (line) => lines.push(line), syncTimeout: 10_000 })
    const by = identity.did

    expect(result.did).toBe(identity.did)
    expect(result.phoneDid).toBe(phoneKey.did)
    expect(result.afterRevocation).toEqual({ name: 'AccessDeniedError', reason: 'device-revoked' })
    expect(result.phoneFirstSync).toEqual([
      { id: 'docs', title: 'Write docs', done: false, writer: by },
      { id: 'milk', title: 'Buy milk', done: false, writer: by }
    ])
    // Read from the phone's disk, offline: its old copy, none of the laptop's changes.
    expect(result.phoneAfterRestart).toEqual(result.phoneFirstSync)
    expect(result.laptopWhileApart.map((t) => t.id)).toEqual(['docs', 'eggs', 'milk'])

    const converged = [
      { id: 'bread', title: 'Buy bread', done: false, writer: by },
      { id: 'docs', title: 'Write docs', done: true, writer: by },
      { id: 'eggs', title: 'Buy eggs', done: false, writer: by },
      { id: 'milk', title: 'Buy milk', done: true, writer: by }
    ]
    expect(result.laptop).toEqual(converged)
    expect(result.phone).toEqual(converged)
    expect(result.heads.phone).toEqual(result.heads.laptop)
    expect(lines.some((line) => line.includes('restarted offline'))).toBe(true)

    // The phone's directory keeps the converged list: a new node on it reads it offline,
    // and nothing the phone tried after its revocation is in it.
    const phone = await createDidbase({ identity: phoneKey, directory: phoneDirectory })
    try {
      const list = await phone.keyValue(result.address, { schema: Todo })
      expect(await readList(list)).toEqual(converged)
    } finally {
      await phone.close()
    }
  })

  it('npm start tells the story', async () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', '--no-warnings', main], { timeout: 30_000 })
    expect(stdout).toMatch(/phone +opened the list by address and synced: \[ \] Write docs, \[ \] Buy milk/)
    expect(stdout).toMatch(/phone +restarted offline, read from its disk: \[ \] Write docs, \[ \] Buy milk/)
    expect(stdout).toMatch(/laptop +has \[ \] Buy bread, \[x\] Write docs, \[ \] Buy eggs, \[x\] Buy milk/)
    expect(stdout).toMatch(/phone +has \[ \] Buy bread, \[x\] Write docs, \[ \] Buy eggs, \[x\] Buy milk/)
    expect(stdout).toMatch(/phone +tried to write after the revocation: AccessDeniedError \(device-revoked\)/)
    expect(stdout).toMatch(/done +laptop and phone hold the same log: true/)
    expect(stderr).toBe('')
  })
})
