/**
 * One user, two devices, one todo list. The laptop creates the list, the phone syncs it,
 * goes offline, both change the list while apart, the phone restarts from its own data
 * directory, reconnects, and the two converge.
 */
import { createDidbase, createDidKeyIdentity, type Didbase, type DidIdentity } from '@didbase/sdk'
import { formatList, readList, Todo, type TodoItem, type TodoList } from './todo.ts'
import { until } from './wait.ts'

export interface SharedTodoOptions {
  /** The laptop's data directory (blocks, oplog, peer key). Created if missing. */
  laptopDirectory: string
  /** The phone's data directory. Kept across the phone's restart. */
  phoneDirectory: string
  /** The user's identity, shared by both devices. Default: a new `did:key`. */
  identity?: DidIdentity
  /** Receives the story, one line at a time. Default: silent. */
  log?: (line: string) => void
  /** How long to wait for each sync, in ms. Default 30 000. */
  syncTimeout?: number
}

export interface SharedTodoResult {
  /** The user's DID: both devices sign as it. */
  did: string
  /** The list's address (it commits to the schema and to the writer, the user's DID). */
  address: string
  /** What the phone had once it first synced with the laptop. */
  phoneFirstSync: TodoItem[]
  /** What the phone read from its own disk after restarting, before it wrote or reconnected. */
  phoneAfterRestart: TodoItem[]
  /** The laptop's list while the phone was away, after its own changes. */
  laptopWhileApart: TodoItem[]
  /** The final lists, once both devices hold the same log. */
  laptop: TodoItem[]
  phone: TodoItem[]
  /** The final heads (latest entry hashes) of each device's log: equal heads, equal logs. */
  heads: { laptop: string[], phone: string[] }
}

// Loopback only: the two "devices" run in one process here.
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

export async function runSharedTodo (options: SharedTodoOptions): Promise<SharedTodoResult> {
  const log = options.log ?? (() => {})
  const say = (who: string, text: string): void => log(`${who.padEnd(7)} ${text}`)
  const timeout = options.syncTimeout ?? 30_000

  // Created once; a real app keeps its seed in each device's keystore and passes it here.
  const identity = options.identity ?? createDidKeyIdentity()
  say('user', `is ${identity.did}`)

  const nodes = new Set<Didbase>()
  const start = async (directory: string): Promise<Didbase> => {
    const node = await createDidbase({ identity, directory, listen: LISTEN })
    nodes.add(node)
    return node
  }
  const stop = async (node: Didbase): Promise<void> => {
    nodes.delete(node)
    await node.close()
  }

  try {
    const laptop = await start(options.laptopDirectory)
    // Default policy: only the creator's DID may write. Both devices are that DID, so the
    // phone may write too, with no invite or grant.
    const onLaptop = await laptop.keyValue('todos', { schema: Todo })
    await onLaptop.put('milk', { title: 'Buy milk', done: false })
    await onLaptop.put('docs', { title: 'Write docs', done: false })
    say('laptop', `created the list: ${formatList(await readList(onLaptop))}`)

    let phone = await start(options.phoneDirectory)
    await phone.dial(laptop.multiaddrs[0]!)
    let onPhone = await phone.keyValue(onLaptop.address, { schema: Todo })
    await until('the phone\'s first sync', async () => sameLog(onLaptop, onPhone), [onPhone], timeout)
    const phoneFirstSync = await readList(onPhone)
    say('phone', `opened the list by address and synced: ${formatList(phoneFirstSync)}`)

    // The app is closed: the phone is offline, its data stays in its directory.
    await stop(phone)
    say('phone', 'went offline (node closed)')

    await onLaptop.put('milk', { title: 'Buy milk', done: true })
    await onLaptop.put('eggs', { title: 'Buy eggs', done: false })
    const laptopWhileApart = await readList(onLaptop)
    say('laptop', `ticked milk and added eggs: ${formatList(laptopWhileApart)}`)

    // Same directory, same identity: the list opens from disk, with no peer to ask.
    phone = await start(options.phoneDirectory)
    onPhone = await phone.keyValue(onLaptop.address, { schema: Todo })
    const phoneAfterRestart = await readList(onPhone)
    say('phone', `restarted offline, read from its disk: ${formatList(phoneAfterRestart)}`)

    await onPhone.put('bread', { title: 'Buy bread', done: false })
    await onPhone.put('docs', { title: 'Write docs', done: true })
    say('phone', `added bread and ticked docs, still offline: ${formatList(await readList(onPhone))}`)

    await phone.dial(laptop.multiaddrs[0]!)
    say('phone', 'reconnected to the laptop')
    await until('both devices to converge', async () => sameLog(onLaptop, onPhone), [onLaptop, onPhone], timeout)

    const result: SharedTodoResult = {
      did: identity.did,
      address: onLaptop.address,
      phoneFirstSync,
      phoneAfterRestart,
      laptopWhileApart,
      laptop: await readList(onLaptop),
      phone: await readList(onPhone),
      heads: { laptop: await onLaptop.heads(), phone: await onPhone.heads() }
    }
    say('laptop', `has ${formatList(result.laptop)}`)
    say('phone', `has ${formatList(result.phone)}`)
    return result
  } finally {
    await Promise.allSettled([...nodes].map(stop))
  }
}

/** Same heads (so the same log) and the same todos read back on both devices. */
async function sameLog (a: TodoList, b: TodoList): Promise<boolean> {
  const [headsA, headsB, listA, listB] = await Promise.all([a.heads(), b.heads(), readList(a), readList(b)])
  return JSON.stringify(headsA) === JSON.stringify(headsB) && JSON.stringify(listA) === JSON.stringify(listB)
}
