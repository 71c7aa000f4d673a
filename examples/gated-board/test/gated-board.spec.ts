/**
 * The gated-board story with real peers: Helia, libp2p over loopback TCP and LevelDB on
 * disk in temporary directories. Asserts what each participant sees, the refusals' name
 * and reason, and that refused writes leave every replica as it was.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runGatedBoard } from '../src/board.ts'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'didbase-gated-board-test-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const byId = <T extends { id: string }>(items: T[]): T[] => [...items].sort((a, b) => (a.id < b.id ? -1 : 1))

describe('gated-board', () => {
  it('lets only invited DIDs post, only authors edit, and admins moderate', async () => {
    const lines: string[] = []
    const r = await runGatedBoard({
      ownerDirectory: join(root, 'owner'),
      aliceDirectory: join(root, 'alice'),
      bobDirectory: join(root, 'bob'),
      log: (line) => lines.push(line),
      syncTimeout: 10_000
    })
    const { owner, alice, bob } = r.dids
    expect(new Set([owner, alice, bob]).size).toBe(3)
    const welcome = { id: r.ids.welcome, text: 'Welcome! Invited members only.', writer: owner }

    // Alice joined by invite: a writer, not an admin; Bob holds no role.
    expect(r.roles).toEqual({ admins: [owner], writers: [alice] })
    expect(byId(r.afterAlicePosted)).toEqual(byId([welcome, { id: r.ids.alice, text: 'Hi, Alice here.', writer: alice }]))

    // Bob's write is refused before anything is signed; no replica changes.
    expect(r.bobPosts.refusal).toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-writer' })
    expect(r.bobPosts.refusal.message).toContain(bob)
    expect(r.bobPosts.after).toEqual(r.bobPosts.before)
    expect(r.bobPosts.before.bob).toEqual(r.bobPosts.before.owner)
    expect(r.bobPosts.after.owner.posts).toEqual(r.afterAlicePosted)

    // Alice may not edit the owner's post; the welcome post is unchanged everywhere.
    expect(r.aliceEditsOwnersPost.refusal).toMatchObject({ name: 'AccessDeniedError', reason: 'not-the-owner' })
    expect(r.aliceEditsOwnersPost.after).toEqual(r.aliceEditsOwnersPost.before)
    const { after } = r.aliceEditsOwnersPost
    for (const replica of [after.owner, after.alice, after.bob]) {
      expect(replica.posts.find((p) => p.id === r.ids.welcome)).toEqual(welcome)
    }

    // ... but may edit her own, and the owner sees the edit, still signed by her.
    expect(byId(r.afterAliceEdited)).toEqual(byId([welcome, { id: r.ids.alice, text: 'Hi, Alice here. (edited)', writer: alice }]))

    // The owner, an admin, deleted Alice's post: gone on every replica, and Bob never posted.
    expect(r.afterModeration).toEqual({ owner: [welcome], alice: [welcome], bob: [welcome] })
    expect(lines.some((line) => line.includes('tried to post: AccessDeniedError (not-a-writer)'))).toBe(true)
  })

  it('npm start tells the story', async () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', '--no-warnings', main], { timeout: 30_000 })
    expect(stdout).toMatch(/owner +roles: admins owner; writers alice/)
    expect(stdout).toMatch(/bob +tried to post: AccessDeniedError \(not-a-writer\)/)
    expect(stdout).toMatch(/alice +tried to edit the owner's post: AccessDeniedError \(not-the-owner\)/)
    expect(stdout).toMatch(/owner +sees "Hi, Alice here. \(edited\)" by alice, "Welcome! Invited members only." by owner\n/)
    expect(stdout).toMatch(/alice +sees "Welcome! Invited members only." by owner\n/)
    expect(stdout).toMatch(/\ndone\n$/)
    expect(stderr).toBe('')
  })
})
