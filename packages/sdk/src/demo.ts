/**
 * `npm start`: two peers in temporary directories show what didbase does. The full story
 * (invites, schemas, offline writes) grows here as those features land.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDidbase } from './didbase.js'

const say = (who: string, text: string): void => {
  console.log(`${who.padEnd(7)} ${text}`)
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

const root = await mkdtemp(join(tmpdir(), 'didbase-demo-'))
const owner = await createDidbase({ directory: join(root, 'owner') })
const reader = await createDidbase({ directory: join(root, 'reader') })
try {
  say('owner', `started as ${short(owner.did)}`)
  say('reader', `started as ${short(reader.did)}`)

  const todos = await owner.keyValue<{ title: string, done: boolean }>('todos')
  await todos.put('milk', { title: 'Buy milk', done: false })
  await todos.put('docs', { title: 'Write docs', done: true })
  say('owner', `created ${todos.address} (only the owner's DID may write) and wrote 2 todos`)

  await reader.dial(owner.multiaddrs[0] as string)
  const replica = await reader.keyValue<{ title: string, done: boolean }>(todos.address)
  await until(replica, async () => (await replica.size()) >= 2)
  for await (const { key, value, writer } of replica.entries()) {
    say('reader', `replicated ${key}: "${value.title}" (done: ${value.done}), signed by ${short(writer)}`)
  }

  try {
    await replica.put('beer', { title: 'Buy beer', done: false })
  } catch (err) {
    say('reader', `tried to write and was refused locally: ${(err as Error).name}`)
  }

  await todos.put('bread', { title: 'Buy bread', done: false })
  await until(replica, async () => (await replica.get('bread')) !== undefined)
  say('reader', `live update: ${(await replica.get('bread'))?.title}`)
  say('demo', 'done')
} finally {
  await reader.close()
  await owner.close()
  await rm(root, { recursive: true, force: true })
}
