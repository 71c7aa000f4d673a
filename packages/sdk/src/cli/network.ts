/**
 * The commands that start a node on the data directory: each starts one, does one thing and
 * stops. Loaded only once the command line is known to be right (see args.ts).
 */
import { decodeInvite, delegatedIdentity, delegateDevice, type DidIdentity, loadOrCreateIdentity } from '@didbase/access'
import { DEFAULT_OPEN_TIMEOUT } from '../databases/open.js'
import { createDidbase, type Didbase } from '../didbase.js'
import { readDelegation, recordDevice, writeDelegation } from './delegation-file.js'
import type { DocumentsDatabase } from '../databases/documents.js'
import type { EventLogDatabase } from '../databases/eventlog.js'
import type { KeyValueDatabase } from '../databases/keyvalue.js'
import type { Command, CommandLine } from './args.js'
import { NotDeliveredError, NotFoundError, UsageError } from './errors.js'
import { checkFind, printFind, runFind } from './find.js'
import type { IndexFields } from '../databases/records.js'
import { multiaddr } from '@multiformats/multiaddr'
import { print } from './output.js'
import { runPeer } from './peer.js'
import { syncFromPeer } from './sync.js'

type Any = KeyValueDatabase | DocumentsDatabase | EventLogDatabase
export type NetworkCommand = Exclude<Command, { name: 'help' | 'init' | 'id' }>

/**
 * Start a node on --dir for one command, run it, stop. Local commands need no listener;
 * with --peer, the peer is a bootstrap peer given time to send what is missing, unless the
 * command dials it itself (`dials`).
 */
/** This directory's identity: its key, acting for the user in `delegation.json` when there is one. */
async function identityOf (dir: string): Promise<DidIdentity> {
  const key = await loadOrCreateIdentity(dir)
  const delegation = await readDelegation(dir)
  return delegation === undefined ? key : delegatedIdentity(key, delegation.proof)
}

async function withNode<T> (cli: CommandLine, run: (didbase: Didbase) => Promise<T>, dials = false): Promise<T> {
  const peer = cli.flags.peer
  const bootstrap = peer !== undefined && !dials ? { bootstrap: [peer] } : {}
  const didbase = await createDidbase({ directory: cli.dir, identity: await identityOf(cli.dir), listen: [], ...bootstrap, openTimeout: peer !== undefined ? DEFAULT_OPEN_TIMEOUT : 3_000 })
  try {
    return await run(didbase)
  } finally {
    await didbase.close()
  }
}

async function withDatabase<T> (cli: CommandLine, address: string, run: (db: Any) => Promise<T>): Promise<T> {
  return withNode(cli, async (didbase) => run(await didbase.open(address)))
}

/** How long a write given `--peer` waits for that peer to hold it. */
const DELIVERY_MS = 15_000

/**
 * Write to `address` and, with `--peer`, return only once that peer holds the new entry
 * (it answers a heads query with it): a peer that does not replicate the database never
 * would, and the command says so rather than exit 0.
 */
async function writeTo (cli: CommandLine, address: string, write: (db: Any) => Promise<string>): Promise<void> {
  const peer = cli.flags.peer
  const { hash, heldBy } = await withDatabase(cli, address, async (db) => {
    const hash = await write(db)
    if (peer === undefined) return { hash, heldBy: [] as string[] }
    const peerId = multiaddr(peer).getComponents().findLast((c) => c.name === 'p2p')?.value ?? null
    if (peerId === null) throw new UsageError(`--peer ${peer} names no peer id; give the address the peer prints, ending in /p2p/12D3Koo…`)
    try {
      await db.whenPeerHolds(peer, hash, { signal: AbortSignal.timeout(DELIVERY_MS) })
    } catch (err) {
      if ((err as Error).name !== 'TimeoutError' && (err as Error).name !== 'AbortError') throw err
      throw new NotDeliveredError(`the write ${hash} is saved in ${cli.dir}, but ${peerId} did not confirm it holds it within ${DELIVERY_MS / 1000} s; it reaches the peer the next time the two meet`)
    }
    return { hash, heldBy: [peerId] }
  })
  if (peer === undefined) print(cli, hash, { hash })
  else print(cli, `${hash}\nheld by ${heldBy.length} peer${heldBy.length === 1 ? '' : 's'}: ${heldBy.join(', ')}`, { hash, heldBy })
}

export async function runNetworkCommand (command: NetworkCommand, cli: CommandLine): Promise<void> {
  const json = cli.flags.json
  switch (command.name) {
    case 'create': {
      const { kind, database } = command
      const options = {
        ...(command.schema !== undefined ? { schema: command.schema } : {}),
        ...(command.writers !== undefined ? { writers: command.writers } : {}),
        ...(command.readers !== undefined ? { readers: command.readers } : {}),
        acl: command.acl,
        ownership: command.ownership,
        ...(command.private ? { private: true } : {})
      }
      await withNode(cli, async (didbase) => {
        const db = kind === 'keyvalue' ? await didbase.keyValue(database, options) : kind === 'documents' ? await didbase.documents(database, options as never) : await didbase.eventLog(database, options)
        print(cli, db.address, { address: db.address, type: kind, name: database })
      })
      return
    }
    case 'ls': {
      const held = await withNode(cli, async (didbase) => didbase.databases())
      if (json) console.log(JSON.stringify(held))
      else if (held.length === 0) console.log(`no databases in ${cli.dir}`)
      else for (const d of held) console.log(`${d.name}\t${d.type}\t${d.address}\t${d.policy}${d.private ? ', private' : ''}\t${d.size} entries${d.named ? '' : '\t(opened by address)'}`)
      return
    }
    case 'put': {
      const { address, key, value } = command
      await writeTo(cli, address, async (db) => {
        if (db.type === 'keyvalue') return db.put(key, value)
        if (db.type === 'documents') return db.put(value as Record<string, unknown>)
        throw new UsageError(`${address} is an event log; use: didbase add <address> <json>`)
      })
      return
    }
    case 'add': {
      const { address, value } = command
      await writeTo(cli, address, async (db) => {
        if (db.type !== 'events') throw new UsageError(`${address} is a ${db.type} database; use: didbase put`)
        return db.add(value)
      })
      return
    }
    case 'get': {
      const { address, key } = command
      await withDatabase(cli, address, async (db) => {
        if (db.type === 'events') throw new UsageError(`${address} is an event log; use: didbase list`)
        const value = await db.get(key)
        if (value === undefined) throw new NotFoundError(`no record ${key} in ${address}`)
        print(cli, JSON.stringify(value), { key, value })
      })
      return
    }
    case 'del': {
      const { address, key } = command
      await writeTo(cli, address, async (db) => {
        if (db.type === 'events') throw new UsageError(`${address} is an event log; events are not deleted`)
        if (await db.get(key) === undefined) throw new NotFoundError(`no record ${key} in ${address}`)
        return db.del(key)
      })
      return
    }
    case 'list': {
      const rows = await withDatabase(cli, command.address, async (db) => {
        const out: Array<{ key?: string, value: unknown, writer: string, hash: string }> = []
        for await (const row of db.entries()) out.push(row as { key?: string, value: unknown, writer: string, hash: string })
        return out
      })
      if (json) console.log(JSON.stringify(rows))
      else for (const r of rows) console.log(`${r.key ?? r.hash}\t${JSON.stringify(r.value)}\t${r.writer}`)
      return
    }
    case 'grant':
    case 'revoke': {
      const { address, role, did } = command
      await writeTo(cli, address, async (db) => (command.name === 'grant' ? db.grant(role, did) : db.revoke(role, did)))
      return
    }
    case 'device-add': {
      const root = await identityOf(cli.dir)
      const expiresAt = Date.now() + command.expiresIn
      const scope = command.scope ?? ['*']
      const token = await delegateDevice(root, command.did, { expiresIn: command.expiresIn, scope })
      await recordDevice(cli.dir, { did: command.did, expiresAt, scope, issuedAt: Date.now() })
      print(cli, `${token}\n(on the device: didbase device use <token>)`, { token, did: command.did, expiresAt, scope })
      return
    }
    case 'device-use': {
      const key = await loadOrCreateIdentity(cli.dir)
      const identity = await delegatedIdentity(key, [command.token])
      await writeDelegation(cli.dir, { user: identity.did, proof: [...identity.proof] })
      print(cli, `${key.did} now writes for ${identity.did}, until ${new Date(identity.expiresAt).toISOString()}`, { user: identity.did, did: key.did, expiresAt: identity.expiresAt })
      return
    }
    case 'device-revoke': {
      await writeTo(cli, command.address, async (db) => db.revokeDevice(command.did))
      return
    }
    case 'rotate-key': {
      await writeTo(cli, command.address, async (db) => db.rotateKey())
      return
    }
    case 'invite': {
      const { address, did, role, expiresIn } = command
      const token = await withDatabase(cli, address, async (db) => db.invite(did, { role, expiresIn }))
      print(cli, token, { token, expiresAt: decodeInvite(token).expiresAt })
      return
    }
    case 'accept':
      await withNode(cli, async (didbase) => {
        const db = await didbase.accept(command.token)
        print(cli, `you may now write to ${db.address}`, { address: db.address })
      })
      return
    case 'query': {
      const fields = Object.entries(command.match)
      const docs = await withDatabase(cli, command.address, async (db) => {
        if (db.type !== 'documents') throw new UsageError(`${command.address} is a ${db.type} database; query works on documents (use: didbase list)`)
        const out: unknown[] = []
        for await (const doc of db.query((d) => fields.every(([k, v]) => JSON.stringify(d[k]) === JSON.stringify(v)))) out.push(doc)
        return out
      })
      if (json) console.log(JSON.stringify(docs))
      else for (const d of docs) console.log(JSON.stringify(d))
      return
    }
    case 'find': {
      checkFind(command)
      printFind(cli, await withNode(cli, async (didbase) => runFind(command, await didbase.open(command.address, { indexes: command.indexes as ReadonlyArray<IndexFields<unknown>> }))))
      return
    }
    case 'sync': {
      const { address, peer } = command
      const r = await withNode(cli, async (didbase) => syncFromPeer(didbase, address, peer, json ? 'json' : 'bar'), true)
      print(cli, `synced ${address}: ${r.entries} entries, up to date with ${peer} (${(r.ms / 1000).toFixed(1)} s)`, r)
      return
    }
    case 'pin': {
      const { address, peer } = command
      await withNode(cli, async (didbase) => {
        // The peer fetches the database from us, so it must be open here while it asks.
        await didbase.dial(peer)
        await didbase.open(address)
        await didbase.pin(address, peer)
      }, true)
      print(cli, `${peer} keeps and serves ${address}`, { address, peer })
      return
    }
    case 'peer':
      await runPeer(command.settings, json)
  }
}
