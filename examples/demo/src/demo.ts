/**
 * `npm start`: three peers in temporary directories tell what didbase does. An owner
 * creates a DID-gated shared todo list with a schema and invites a member; a stranger is
 * refused, by its own SDK and, when it bypasses it, by the owner's replica; the member writes
 * offline and syncs on reconnect; an invalid value is refused with its schema path.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDidKeyIdentity, orbitIdentityLayer } from '@didbase/access'
import { defineSchema, s } from '@didbase/schemas'
import { Entry } from '@orbitdb/core'
import { createDidbase, type Didbase, type KeyValueDatabase, type RejectedDetail } from '@didbase/sdk'

const say = (who: string, text: string): void => {
  console.log(`${who.padEnd(8)} ${text}`)
}
const short = (did: string): string => `${did.slice(0, 16)}…${did.slice(-4)}`

/** Wait for `check` to hold, re-checking on each update (or every 100 ms), for at most 30 s. */
async function until (target: EventTarget, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('replication did not finish within 30 s')
    await Promise.race([
      new Promise((resolve) => target.addEventListener('update', resolve, { once: true })),
      new Promise((resolve) => setTimeout(resolve, 100))
    ])
  }
}

/** What a modified client does: sign an entry itself and publish it on the database's topic. */
async function bypassSdk (stranger: Didbase, strangerKey: ReturnType<typeof createDidKeyIdentity>, owner: Didbase, address: string): Promise<void> {
  const { identity } = orbitIdentityLayer(strangerKey)
  const entry = await Entry.create(identity, address, { op: 'PUT', key: 'spam', value: { title: 'Buy my coin', done: false } }, undefined, { id: identity.publicKey, time: 1 })
  const { bytes } = await Entry.encode(entry)
  const pubsub = (stranger.helia.libp2p.services as { pubsub: { publish: (t: string, d: Uint8Array) => Promise<unknown>, getSubscribers: (t: string) => Array<{ toString: () => string }> } }).pubsub
  const deadline = Date.now() + 30_000
  while (!pubsub.getSubscribers(address).some((p) => p.toString() === owner.peerId)) {
    if (Date.now() > deadline) throw new Error('the owner never subscribed')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await pubsub.publish(address, bytes)
}

const Todo = defineSchema('Todo', s.struct({ title: s.string(), done: s.bool() }))
type TodoValue = { title: string, done: boolean }

const root = await mkdtemp(join(tmpdir(), 'didbase-demo-'))
const strangerKey = createDidKeyIdentity()
const owner = await createDidbase({ directory: join(root, 'owner') })
const member = await createDidbase({ directory: join(root, 'member') })
const stranger = await createDidbase({ directory: join(root, 'stranger'), identity: strangerKey })
try {
  say('owner', `is ${short(owner.did)}`)
  say('member', `is ${short(member.did)}`)
  say('stranger', `is ${short(stranger.did)}`)

  const todos = await owner.keyValue('todos', { schema: Todo, acl: true })
  await todos.put('milk', { title: 'Buy milk', done: false })
  say('owner', `created a shared todo list with a schema; its address commits to both:\n         ${todos.address}`)
  todos.addEventListener('entry:rejected', (e: CustomEvent<RejectedDetail>) => {
    say('owner', `rejected an entry from ${short(e.detail.did)}: ${e.detail.reason}`)
  })

  const token = await todos.invite(member.did, { expiresIn: 10 * 60_000 })
  say('owner', `invited the member (a did-jwt token, ${token.length} characters, valid 10 minutes)`)
  await member.dial(owner.multiaddrs[0] as string)
  const shared = await member.accept(token) as KeyValueDatabase<TodoValue>
  await shared.put('docs', { title: 'Write docs', done: false })
  say('member', 'accepted the invite and wrote a todo')
  await until(todos, async () => (await todos.get('docs')) !== undefined)
  say('owner', `sees "${(await todos.get('docs'))?.title}", signed by ${short(member.did)}`)

  await stranger.dial(owner.multiaddrs[0] as string)
  const theirs = await stranger.keyValue<TodoValue>(todos.address)
  try {
    await theirs.put('spam', { title: 'Buy my coin', done: false })
  } catch (err) {
    say('stranger', `tried to write and its own SDK refused: ${(err as Error).name}`)
  }
  const rejected = new Promise((resolve) => todos.addEventListener('entry:rejected', resolve, { once: true }))
  await bypassSdk(stranger, strangerKey, owner, todos.address)
  say('stranger', 'signed an entry itself and sent it straight to the owner')
  await rejected

  await member.helia.libp2p.hangUp(owner.helia.libp2p.peerId)
  say('member', 'went offline')
  await shared.put('bread', { title: 'Buy bread', done: false })
  say('member', 'wrote a todo while offline')
  await member.dial(owner.multiaddrs[0] as string)
  say('member', 'came back online')
  await until(todos, async () => (await todos.get('bread')) !== undefined)
  const heads = JSON.stringify(await todos.heads()) === JSON.stringify(await shared.heads())
  say('owner', `has the offline write; owner and member hold the same log: ${heads}`)

  try {
    await shared.put('oops', { title: 42, done: false } as unknown as TodoValue)
  } catch (err) {
    say('member', `an invalid todo was refused: ${(err as Error).message}`)
  }
  for await (const { key, value, writer } of todos.entries()) {
    say('owner', `${key}: "${value.title}" by ${short(writer)}`)
  }
  say('demo', 'done')
} finally {
  await stranger.close()
  await member.close()
  await owner.close()
  await rm(root, { recursive: true, force: true })
}
