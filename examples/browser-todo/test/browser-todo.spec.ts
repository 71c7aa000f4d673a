/**
 * The browser example in real Chromium (Debian's, driven by playwright-core) against the
 * example's own server: a real didbase peer over WebSockets on loopback, real IndexedDB in
 * each browser profile, real Ed25519 signatures from WebCrypto. Nothing is mocked.
 * Screenshots of each step land in examples/browser-todo/screenshots/.
 */
import { rm } from 'node:fs/promises'
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build, freePort, openBrowser, type Person, profileDir, screenshot, Server, waitForText } from './harness.ts'

/** Whether this machine has an address besides loopback, which WebRTC between browsers needs. */
function hasNetworkAddress (): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => !i.internal) === true)
}

let server: Server
let alice: Person
let bob: Person
const profiles: Record<string, string> = {}
let listUrl = ''

const items = async (p: Person): Promise<string[]> => p.page.locator('#items li .title').allTextContents()
const writers = async (p: Person): Promise<string[]> => p.page.locator('#items li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.writer ?? ''))

async function add (p: Person, title: string): Promise<void> {
  await p.page.fill('#new-title', title)
  await p.page.click('#add')
}

async function ready (p: Person, url: string): Promise<string> {
  await p.page.goto(url)
  await p.page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
  return waitForText(p.page, '#did', (t) => t.startsWith('did:key:z6Mk'), 'the page to show its DID')
}

beforeAll(async () => {
  await rm(new URL('../screenshots', import.meta.url), { recursive: true, force: true })
  await build()
  server = new Server(await profileDir('peer'), await freePort(), await freePort())
  await server.start()
  profiles.alice = await profileDir('alice')
  profiles.bob = await profileDir('bob')
  alice = await openBrowser(profiles.alice)
  bob = await openBrowser(profiles.bob)
}, 120_000)

afterAll(async () => {
  await alice?.context.close()
  await bob?.context.close()
  await server?.stop()
  for (const dir of [...Object.values(profiles), server?.dir]) if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('browser-todo in Chromium', () => {
  it('two profiles share a private list through the peer: a stranger reads nothing and is refused, an invited writer reads and writes', async () => {
    const aliceDid = await ready(alice, server.url)
    const bobDid = await ready(bob, server.url)
    expect(aliceDid).not.toBe(bobDid)

    await waitForText(alice.page, '#peer', (t) => t === 'online', 'Alice to reach the peer')
    await alice.page.click('#create')
    await alice.page.waitForFunction(() => location.hash.startsWith('#list='), null, { timeout: 30_000 })
    listUrl = alice.page.url()
    await add(alice, 'buy milk')
    expect(await waitForText(alice.page, '#items', (t) => t.includes('buy milk'), 'Alice to see her todo')).toContain('buy milk')
    await screenshot(alice.page, 'alice-created-list')

    // Bob opens the list without an invite: it is private, so he reads nothing, and his write is refused.
    const started = Date.now()
    await bob.page.goto(listUrl)
    await waitForText(bob.page, '#sync', (t) => t === 'synced with the peer', 'Bob to receive the list from the peer')
    console.log(JSON.stringify({ example: 'browser-todo', firstSyncMs: Date.now() - started }))
    expect(await waitForText(bob.page, '#role', (t) => t.startsWith('private'), 'Bob to be told the list is private')).toContain('ask an admin for an invite')
    await add(bob, 'not allowed')
    expect(await waitForText(bob.page, '#refused', (t) => t.length > 0, 'Bob to see his write refused')).toMatch(/^AccessDeniedError: /)
    expect(await items(bob)).toEqual([])
    await screenshot(bob.page, 'bob-refused-without-invite')

    // Alice invites Bob's DID; Bob follows the link and may write.
    await alice.page.fill('#invite-did', bobDid)
    await alice.page.click('#invite')
    await alice.page.waitForSelector('#invite-link:not([hidden])')
    const link = await alice.page.inputValue('#invite-link')
    expect(link).toContain('#invite=')
    await bob.page.goto(link)
    await bob.page.waitForFunction(() => location.hash.startsWith('#list='), null, { timeout: 30_000 })
    await waitForText(bob.page, '#role', (t) => t === 'you may write', 'Bob to become a writer')
    await waitForText(bob.page, '#items', (t) => t.includes('buy milk'), 'Bob, now a member, to read the list')
    await add(bob, 'bake bread')
    await waitForText(alice.page, '#items', (t) => t.includes('bake bread'), 'Alice to receive Bob\'s todo')
    expect(await items(alice)).toEqual(['buy milk', 'bake bread'])
    expect(await writers(alice)).toEqual([aliceDid, bobDid])
    expect(await alice.page.textContent('#rejected')).toBe('')
    await screenshot(alice.page, 'alice-sees-bobs-todo')
    expect([...alice.errors, ...bob.errors]).toEqual([])
  }, 120_000)

  it('a reload keeps the DID and the list', async () => {
    const bobDid = await bob.page.textContent('#did')
    await bob.page.reload()
    await bob.page.waitForSelector('body[data-ready="true"]')
    expect(await bob.page.textContent('#did')).toBe(bobDid)
    await waitForText(bob.page, '#items', (t) => t.includes('bake bread'), 'Bob\'s list after a reload')
    expect(await items(bob)).toEqual(['buy milk', 'bake bread'])
    await screenshot(bob.page, 'bob-after-reload')

    // A second tab of the same profile would be the same DID and peer twice: it is refused.
    const second = await bob.context.newPage()
    await second.goto(listUrl)
    expect(await waitForText(second, '#refused', (t) => t.length > 0, 'the second tab to be refused')).toMatch(/^DirectoryInUseError: /)
    await screenshot(second, 'bob-second-tab-refused')
    await second.close()
    await add(bob, 'still writing')
    await waitForText(alice.page, '#items', (t) => t.includes('still writing'), 'the first tab to keep working')
  }, 60_000)

  it('a todo the schema forbids shows its error, and nothing is written anywhere', async () => {
    await add(alice, 'x'.repeat(300))
    const refused = await waitForText(alice.page, '#refused', (t) => t.length > 0, 'Alice to see the schema refuse her todo')
    expect(refused).toMatch(/^SchemaValidationError: /)
    expect(refused).toContain('at most 200 bytes')
    // The title stays in the box, to be shortened; the list is unchanged everywhere.
    expect((await alice.page.inputValue('#new-title')).length).toBe(300)
    expect(await items(alice)).toEqual(['buy milk', 'bake bread', 'still writing'])
    await add(bob, 'last one')
    await waitForText(alice.page, '#items', (t) => t.includes('last one'), 'a later todo to arrive after the refused one')
    expect(await items(alice)).toEqual(['buy milk', 'bake bread', 'still writing', 'last one'])
    await screenshot(alice.page, 'alice-schema-refused')
  }, 60_000)

  // Chromium's WebRTC gathers no loopback candidates: two browsers on one machine meet on
  // its own network address (the traffic never leaves the machine). Without one, WebRTC
  // cannot connect at all, so this test needs it.
  it.skipIf(!hasNetworkAddress())('the pages meet over WebRTC through the peer\'s relay, and keep syncing while the peer is down', async () => {
    await waitForText(alice.page, '#browsers', (t) => Number(t) >= 1, 'Alice to connect to Bob over WebRTC')
    await waitForText(bob.page, '#browsers', (t) => Number(t) >= 1, 'Bob to connect to Alice over WebRTC')
    await server.stop()
    await waitForText(alice.page, '#peer', (t) => t === 'offline', 'Alice to notice the peer is gone')
    await add(alice, 'sent browser to browser')
    await waitForText(bob.page, '#items', (t) => t.includes('sent browser to browser'), 'Bob to receive Alice\'s todo with the peer down')
    expect(await items(bob)).toEqual(['buy milk', 'bake bread', 'still writing', 'last one', 'sent browser to browser'])
    await screenshot(bob.page, 'bob-got-todo-over-webrtc')
    await server.start()
  }, 90_000)

  it('a page writes while the peer is down, and the write reaches others once the peer is back', async () => {
    await bob.context.close()
    await server.stop()
    await waitForText(alice.page, '#peer', (t) => t === 'offline', 'Alice to notice the peer is gone')
    await add(alice, 'written offline')
    await waitForText(alice.page, '#items', (t) => t.includes('written offline'), 'Alice to keep her offline write')
    await screenshot(alice.page, 'alice-offline-write')

    await server.start()
    await waitForText(alice.page, '#peer', (t) => t === 'online', 'Alice to reconnect to the restarted peer')
    await waitForText(alice.page, '#sync', (t) => t === 'synced with the peer', 'Alice to sync with the restarted peer')
    await alice.context.close()

    // Alice is gone: Bob can only get her offline write from the peer.
    bob = await openBrowser(profiles.bob as string)
    await bob.page.goto(listUrl)
    await waitForText(bob.page, '#items', (t) => t.includes('written offline'), 'Bob to receive the offline write from the peer')
    expect((await items(bob)).slice(0, 4)).toEqual(['buy milk', 'bake bread', 'still writing', 'last one'])
    expect((await items(bob)).at(-1)).toBe('written offline')
    await screenshot(bob.page, 'bob-got-offline-write')
    expect(bob.errors).toEqual([])
  }, 120_000)
})
