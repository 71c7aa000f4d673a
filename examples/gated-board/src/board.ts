/**
 * A message board only invited DIDs may post to, where each post belongs to its author.
 * The owner creates it and invites Alice; Alice posts; Bob, not invited, is refused; Alice
 * cannot edit the owner's post but can edit her own; the owner moderates Alice's post.
 */
import { randomUUID } from 'node:crypto'
import { AccessDeniedError, createDidbase, type Didbase, type Roles } from '@didbase/sdk'
import { type Board, Post, type PostItem, readBoard } from './post.ts'
import { until } from './wait.ts'

export interface GatedBoardOptions {
  /** Data directories of the three peers. Created if missing. */
  ownerDirectory: string
  aliceDirectory: string
  bobDirectory: string
  /** Receives the story, one line at a time. Default: silent. */
  log?: (line: string) => void
  /** How long to wait for each sync, in ms. Default 30 000. */
  syncTimeout?: number
}

/** A write the SDK refused: the error's `name`, `reason` and `message`. */
export interface Refusal {
  name: string
  reason: string
  message: string
}

/** One replica's posts and log heads (equal heads, equal logs). */
export interface Snapshot {
  posts: PostItem[]
  heads: string[]
}

export interface Replicas<T> {
  owner: T
  alice: T
  bob: T
}

/** A refused write, and every replica just before and just after it. */
export interface RefusedWrite {
  refusal: Refusal
  before: Replicas<Snapshot>
  after: Replicas<Snapshot>
}

export interface GatedBoardResult {
  address: string
  dids: Replicas<string>
  /** Post ids: the owner's welcome post and Alice's post. */
  ids: { welcome: string, alice: string }
  /** Who holds which role once Alice has joined, as the owner's replica sees it. */
  roles: Roles
  /** The owner's board once Alice's post has arrived. */
  afterAlicePosted: PostItem[]
  /** Bob, never invited, tries to post. */
  bobPosts: RefusedWrite
  /** Alice tries to edit the owner's welcome post. */
  aliceEditsOwnersPost: RefusedWrite
  /** The owner's board once Alice's edit of her own post has arrived. */
  afterAliceEdited: PostItem[]
  /** Every replica once the owner's deletion of Alice's post has arrived. */
  afterModeration: Replicas<PostItem[]>
}

// Loopback only: the three peers run in one process here.
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** A fresh key per post: with ownership on, a key stays its creator's even after deletion. */
const newPostId = (): string => randomUUID()

export async function runGatedBoard (options: GatedBoardOptions): Promise<GatedBoardResult> {
  const log = options.log ?? (() => {})
  const timeout = options.syncTimeout ?? 30_000
  const nodes: Didbase[] = []
  const start = async (directory: string): Promise<Didbase> => {
    const node = await createDidbase({ directory, listen: LISTEN })
    nodes.push(node)
    return node
  }

  try {
    const owner = await start(options.ownerDirectory)
    const alice = await start(options.aliceDirectory)
    const bob = await start(options.bobDirectory)
    const names = new Map<string, string>([[owner.did, 'owner'], [alice.did, 'alice'], [bob.did, 'bob']])
    const say = (who: string, text: string): void => log(`${who.padEnd(6)} ${text}`)
    const show = (posts: PostItem[]): string => posts.map((p) => `"${p.text}" by ${names.get(p.writer) ?? p.writer}`).join(', ') || '(empty)'
    for (const [did, name] of names) say(name, `is ${did}`)

    // An ACL (admins can invite and revoke later) with ownership: a post may be changed
    // only by its author or an admin. Both choices, and the schema, are in the address.
    const onOwner = await owner.documents('board', { schema: Post, acl: true, ownership: true })
    const welcome = newPostId()
    await onOwner.put({ _id: welcome, text: 'Welcome! Invited members only.' })
    say('owner', `created the board and posted: ${show(await readBoard(onOwner))}`)

    // An invite is a token signed by the owner's DID, for Alice's DID only; nothing is written yet.
    const token = await onOwner.invite(alice.did, { role: 'writer', expiresIn: 10 * 60_000 })
    say('owner', 'invited alice as a writer (a signed token, valid 10 minutes)')

    await alice.dial(owner.multiaddrs[0]!)
    // accept() opens the board the token names and redeems the token there.
    const joined = await alice.accept(token)
    // The same open handle, typed by the schema (and checked against the board's address).
    const onAlice = await alice.documents(joined.address, { schema: Post })
    const aliceId = newPostId()
    await onAlice.put({ _id: aliceId, text: 'Hi, Alice here.' })
    say('alice', 'accepted the invite and posted')
    await until('alice\'s post on the owner\'s replica', async () => (await onOwner.get(aliceId)) !== undefined, [onOwner], timeout)
    const afterAlicePosted = await readBoard(onOwner)
    const roles = await onOwner.roles()
    say('owner', `sees ${show(afterAlicePosted)}`)
    say('owner', `roles: admins ${roles.admins.map((d) => names.get(d)).join(', ')}; writers ${roles.writers.map((d) => names.get(d)).join(', ')}`)

    // Anyone who knows the address can read; writing is another matter.
    await bob.dial(owner.multiaddrs[0]!)
    const onBob = await bob.documents(onOwner.address, { schema: Post })
    // Wait until every replica holds the same log, so each refusal below is judged on
    // the full board (Alice must have the welcome post to be refused as not its owner).
    await until('the board on every replica', async () => (await sameLog(onOwner, onAlice)) && (await sameLog(onOwner, onBob)), [onAlice, onBob], timeout)
    say('bob', `(not invited) reads ${show(await readBoard(onBob))}`)

    const boards = { owner: onOwner, alice: onAlice, bob: onBob }
    const bobPosts = await refused(boards, async () => onBob.put({ _id: newPostId(), text: 'Buy my coin!' }))
    say('bob', `tried to post: ${bobPosts.refusal.name} (${bobPosts.refusal.reason})`)

    const aliceEditsOwnersPost = await refused(boards, async () => onAlice.put({ _id: welcome, text: 'Alice was here' }))
    say('alice', `tried to edit the owner's post: ${aliceEditsOwnersPost.refusal.name} (${aliceEditsOwnersPost.refusal.reason})`)

    await onAlice.put({ _id: aliceId, text: 'Hi, Alice here. (edited)' })
    await until('alice\'s edit on the owner\'s replica', async () => (await onOwner.get(aliceId))?.text.endsWith('(edited)') === true, [onOwner], timeout)
    const afterAliceEdited = await readBoard(onOwner)
    say('alice', 'edited her own post')
    say('owner', `sees ${show(afterAliceEdited)}`)

    // Admins may change or delete any post: moderation needs no special operation.
    await onOwner.del(aliceId)
    say('owner', 'deleted alice\'s post as an admin (moderation)')
    await until('the deletion on every replica', async () => (await sameLog(onOwner, onAlice)) && (await sameLog(onOwner, onBob)), [onAlice, onBob], timeout)
    const afterModeration = { owner: await readBoard(onOwner), alice: await readBoard(onAlice), bob: await readBoard(onBob) }
    for (const [who, posts] of Object.entries(afterModeration)) say(who, `sees ${show(posts)}`)

    return {
      address: onOwner.address,
      dids: { owner: owner.did, alice: alice.did, bob: bob.did },
      ids: { welcome, alice: aliceId },
      roles,
      afterAlicePosted,
      bobPosts,
      aliceEditsOwnersPost,
      afterAliceEdited,
      afterModeration
    }
  } finally {
    await Promise.allSettled(nodes.map(async (node) => node.close()))
  }
}

/** Run a write that the policy must refuse; capture the refusal and every replica around it. */
async function refused (boards: Replicas<Board>, write: () => Promise<unknown>): Promise<RefusedWrite> {
  const before = await snapshot(boards)
  let refusal: Refusal | undefined
  try {
    await write()
  } catch (err) {
    // Any other error is a bug in the story, not a refusal: let it through.
    if (!(err instanceof AccessDeniedError)) throw err
    refusal = { name: err.name, reason: err.reason, message: err.message }
  }
  if (refusal === undefined) throw new Error('a write the policy should refuse went through')
  return { refusal, before, after: await snapshot(boards) }
}

async function snapshot (boards: Replicas<Board>): Promise<Replicas<Snapshot>> {
  const one = async (board: Board): Promise<Snapshot> => ({ posts: await readBoard(board), heads: await board.heads() })
  return { owner: await one(boards.owner), alice: await one(boards.alice), bob: await one(boards.bob) }
}

/** Same heads (so the same log) and the same posts on both replicas. */
async function sameLog (a: Board, b: Board): Promise<boolean> {
  const [headsA, headsB, postsA, postsB] = await Promise.all([a.heads(), b.heads(), readBoard(a), readBoard(b)])
  return JSON.stringify(headsA) === JSON.stringify(headsB) && JSON.stringify(postsA) === JSON.stringify(postsB)
}
