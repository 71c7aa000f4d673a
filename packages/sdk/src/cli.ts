/**
 * The `didbase` command. Each command starts a node on the data directory (`--dir`, default
 * `./.didbase`), does one thing, and stops. `--json` prints machine-readable output.
 *
 * Exit codes: 0 done; 1 bad usage; 2 refused (access, schema, invalid value or invite);
 * 3 not found (no identity, unknown database or key); 4 anything else.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { decodeInvite, IDENTITY_FILE, loadOrCreateIdentity } from '@didbase/access'
import { type Schema, schemaFromDSL } from '@didbase/schemas'
import { DEFAULT_PEER_LISTEN, readPeerConfig, runPeer } from './cli-peer.js'
import { syncFromPeer } from './cli-sync.js'
import { createDidbase, type Didbase } from './didbase.js'
import type { DocumentsDatabase } from './documents.js'
import type { EventLogDatabase } from './eventlog.js'
import type { KeyValueDatabase } from './keyvalue.js'

const USAGE = `didbase <command> [options]

  init                                   create the identity in --dir (or show it)
  id                                     show the identity's DID
  create <keyvalue|documents|events> <name> [--schema file.ipldsch --root Type] [--writers did,...] [--acl] [--ownership]
  put <address> <key> <json>             key-value: set a key; documents: <json> is the document (key ignored)
  get <address> <key>
  del <address> <key>
  add <address> <json>                   event log: append an event
  list <address>                         every record, with its writer
  query <address> <json>                 documents whose fields equal those given, e.g. '{"done":false}'
  grant|revoke <address> <admin|writer> <did>
  invite <address> <did> [--role writer] [--expires 7d]   prints a token
  accept <token>                         open the database the token is for and redeem it
  sync <address> --peer <multiaddr>      fetch a database from a peer and keep it in --dir (progress bar)
  pin <address> --peer <multiaddr>       ask a didbase peer to keep and serve a database
  peer [--listen ma,...] [--serve address,...] [--creators did,...] [--no-relay] [--config peer.json]
                                         stay online: keep and serve databases to peers while writers
                                         are away (those given, those served before from --dir, and
                                         those pinned by clients when --creators created them); relay
                                         for browsers

options: --dir <path> (default ./.didbase)  --peer <multiaddr> (fetch from this peer)  --json  --help
exit codes: 0 done, 1 bad usage, 2 refused (access, schema, invite, value, pin), 3 not found, 4 other`

class UsageError extends Error {
  override name = 'UsageError'
}
class NotFoundError extends Error {
  override name = 'NotFoundError'
}

const USAGE_ERRORS = new Set(['UsageError', 'InvalidAddressError', 'ConfigError'])
const REFUSED = new Set(['AccessDeniedError', 'SchemaValidationError', 'InvalidValueError', 'InvalidInviteError', 'InviteExpiredError', 'InvalidDidError', 'WrongDatabaseTypeError', 'ClosedError', 'PinRefusedError'])
const NOT_FOUND = new Set(['UnknownDatabaseError', 'UnsupportedDatabaseError'])

const { values: flags, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        schema: { type: 'string' },
        root: { type: 'string' },
        writers: { type: 'string' },
        acl: { type: 'boolean', default: false },
        ownership: { type: 'boolean', default: false },
        role: { type: 'string', default: 'writer' },
        expires: { type: 'string', default: '7d' },
        peer: { type: 'string' },
        listen: { type: 'string' },
        serve: { type: 'string' },
        creators: { type: 'string' },
        'no-relay': { type: 'boolean', default: false },
        config: { type: 'string' }
      }
    })
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`)
    process.exit(1)
  }
})()

const DEFAULT_DIR = './.didbase'
/** The data directory of every command but `peer`, whose config file may name one. */
const dir = flags.dir ?? DEFAULT_DIR

function print (human: string, json: unknown): void {
  console.log(flags.json ? JSON.stringify(json) : human)
}

function arg (index: number, name: string): string {
  const value = positionals[index]
  if (value === undefined) throw new UsageError(`missing <${name}>`)
  return value
}

function json (text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new UsageError(`${what} must be JSON, e.g. '{"title":"milk"}' (got ${text})`)
  }
}

function duration (text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text)
  if (m === null) throw new UsageError(`--expires takes a number and a unit: 30m, 12h, 7d (got ${text})`)
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']
}

async function schemaFile (path: string): Promise<Schema> {
  const dsl = await readFile(path, 'utf8')
  const root = flags.root ?? /^\s*type\s+(\w+)/m.exec(dsl)?.[1]
  if (root === undefined) throw new UsageError(`${path} defines no type; give --root`)
  return schemaFromDSL(dsl, root)
}

/**
 * Start a node on --dir for one command, run it, stop. Local commands need no listener;
 * with --peer, the peer is a bootstrap peer given time to send what is missing, unless the
 * command dials it itself (`dials`).
 */
async function withNode<T> (run: (didbase: Didbase) => Promise<T>, dials = false): Promise<T> {
  const peer = flags.peer !== undefined && !dials ? { bootstrap: [flags.peer] } : {}
  const didbase = await createDidbase({ directory: dir, listen: [], ...peer, openTimeout: flags.peer !== undefined ? 30_000 : 3_000 })
  try {
    return await run(didbase)
  } finally {
    await didbase.close()
  }
}

type Any = KeyValueDatabase | DocumentsDatabase | EventLogDatabase

async function withDatabase<T> (address: string, run: (db: Any) => Promise<T>): Promise<T> {
  return withNode(async (didbase) => run(await didbase.open(address)))
}

function list (text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((a) => a.trim()).filter(Boolean)
}

/** Flags first, then the config file, then defaults. */
async function peerCommand (): Promise<void> {
  const config = flags.config === undefined ? {} : await readPeerConfig(flags.config)
  await runPeer({
    directory: flags.dir ?? config.dir ?? DEFAULT_DIR,
    listen: list(flags.listen) ?? config.listen ?? DEFAULT_PEER_LISTEN,
    peers: flags.peer !== undefined ? [flags.peer] : config.peers ?? [],
    serve: [...(config.serve ?? []), ...(list(flags.serve) ?? [])],
    creators: list(flags.creators) ?? config.creators ?? [],
    relay: flags['no-relay'] ? false : config.relay ?? true
  }, flags.json)
}

function needPeer (command: string): string {
  if (flags.peer === undefined) throw new UsageError(`${command} needs --peer <multiaddr>, e.g. --peer /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo… (the address a didbase peer prints)`)
  return flags.peer
}

async function main (): Promise<void> {
  const command = positionals[0]
  if (flags.help || command === undefined) {
    console.log(USAGE)
    return
  }
  switch (command) {
    case 'init': {
      const identity = await loadOrCreateIdentity(dir)
      print(`${identity.did}\n(identity in ${join(dir, IDENTITY_FILE)})`, { did: identity.did })
      return
    }
    case 'id': {
      try {
        await readFile(join(dir, IDENTITY_FILE))
      } catch {
        throw new NotFoundError(`no identity in ${dir}; run: didbase init --dir ${dir}`)
      }
      const identity = await loadOrCreateIdentity(dir)
      print(identity.did, { did: identity.did })
      return
    }
    case 'create': {
      const type = arg(1, 'keyvalue|documents|events')
      const name = arg(2, 'name')
      if (!['keyvalue', 'documents', 'events'].includes(type)) throw new UsageError(`unknown database type ${type}; use keyvalue, documents or events`)
      const options = {
        ...(flags.schema !== undefined ? { schema: await schemaFile(flags.schema) } : {}),
        ...(flags.writers !== undefined ? { writers: flags.writers.split(',').map((w) => w.trim()).filter(Boolean) } : {}),
        acl: flags.acl,
        ownership: flags.ownership
      }
      await withNode(async (didbase) => {
        const db = type === 'keyvalue' ? await didbase.keyValue(name, options) : type === 'documents' ? await didbase.documents(name, options as never) : await didbase.eventLog(name, options)
        print(db.address, { address: db.address, type, name })
      })
      return
    }
    case 'put': {
      const [address, key, value] = [arg(1, 'address'), arg(2, 'key'), json(arg(3, 'json'), '<json>')]
      const hash = await withDatabase(address, async (db) => {
        if (db.type === 'keyvalue') return db.put(key, value)
        if (db.type === 'documents') return db.put(value as Record<string, unknown>)
        throw new UsageError(`${address} is an event log; use: didbase add <address> <json>`)
      })
      print(hash, { hash })
      return
    }
    case 'add': {
      const [address, value] = [arg(1, 'address'), json(arg(2, 'json'), '<json>')]
      const hash = await withDatabase(address, async (db) => {
        if (db.type !== 'events') throw new UsageError(`${address} is a ${db.type} database; use: didbase put`)
        return db.add(value)
      })
      print(hash, { hash })
      return
    }
    case 'get':
    case 'del': {
      const [address, key] = [arg(1, 'address'), arg(2, 'key')]
      await withDatabase(address, async (db) => {
        if (db.type === 'events') throw new UsageError(`${address} is an event log; use: didbase list`)
        const value = await db.get(key)
        if (value === undefined) throw new NotFoundError(`no record ${key} in ${address}`)
        if (command === 'get') {
          print(JSON.stringify(value), { key, value })
          return
        }
        const hash = await db.del(key)
        print(hash, { hash })
      })
      return
    }
    case 'list': {
      const address = arg(1, 'address')
      const rows = await withDatabase(address, async (db) => {
        const out: Array<{ key?: string, value: unknown, writer: string, hash: string }> = []
        for await (const row of db.entries()) out.push(row as { key?: string, value: unknown, writer: string, hash: string })
        return out
      })
      if (flags.json) console.log(JSON.stringify(rows))
      else for (const r of rows) console.log(`${r.key ?? r.hash}\t${JSON.stringify(r.value)}\t${r.writer}`)
      return
    }
    case 'grant':
    case 'revoke': {
      const [address, role, did] = [arg(1, 'address'), arg(2, 'admin|writer'), arg(3, 'did')]
      const hash = await withDatabase(address, async (db) => (command === 'grant' ? db.grant(role as 'writer', did) : db.revoke(role as 'writer', did)))
      print(hash, { hash })
      return
    }
    case 'invite': {
      const [address, did] = [arg(1, 'address'), arg(2, 'did')]
      const expiresIn = duration(flags.expires)
      const token = await withDatabase(address, async (db) => db.invite(did, { role: flags.role as 'writer', expiresIn }))
      print(token, { token, expiresAt: decodeInvite(token).expiresAt })
      return
    }
    case 'accept': {
      const token = arg(1, 'token')
      await withNode(async (didbase) => {
        const db = await didbase.accept(token)
        print(`you may now write to ${db.address}`, { address: db.address })
      })
      return
    }
    case 'query': {
      const [address, match] = [arg(1, 'address'), json(arg(2, 'json'), '<json>')]
      if (typeof match !== 'object' || match === null || Array.isArray(match)) throw new UsageError(`<json> must be an object of fields to match, e.g. '{"done":false}'`)
      const fields = Object.entries(match)
      const docs = await withDatabase(address, async (db) => {
        if (db.type !== 'documents') throw new UsageError(`${address} is a ${db.type} database; query works on documents (use: didbase list)`)
        const out: unknown[] = []
        for await (const doc of db.query((d) => fields.every(([k, v]) => JSON.stringify(d[k]) === JSON.stringify(v)))) out.push(doc)
        return out
      })
      if (flags.json) console.log(JSON.stringify(docs))
      else for (const d of docs) console.log(JSON.stringify(d))
      return
    }
    case 'sync': {
      const address = arg(1, 'address')
      const peer = needPeer('sync')
      const r = await withNode(async (didbase) => syncFromPeer(didbase, address, peer, flags.json ? 'json' : 'bar'), true)
      print(`synced ${address}: ${r.entries} entries, up to date with ${peer} (${(r.ms / 1000).toFixed(1)} s)`, r)
      return
    }
    case 'pin': {
      const address = arg(1, 'address')
      const peer = needPeer('pin')
      await withNode(async (didbase) => {
        // The peer fetches the database from us, so it must be open here while it asks.
        await didbase.dial(peer)
        await didbase.open(address)
        await didbase.pin(address, peer)
      }, true)
      print(`${peer} keeps and serves ${address}`, { address, peer })
      return
    }
    case 'peer':
      await peerCommand()
      return
    default:
      throw new UsageError(`unknown command ${command}`)
  }
}

try {
  await main()
} catch (err) {
  const e = err as Error
  const code = USAGE_ERRORS.has(e.name) ? 1 : e instanceof NotFoundError || NOT_FOUND.has(e.name) ? 3 : REFUSED.has(e.name) ? 2 : 4
  if (flags.json) console.error(JSON.stringify({ error: e.name, message: e.message, ...(('reason' in e) ? { reason: e.reason } : {}), exitCode: code }))
  else console.error(`didbase: ${e.message}${e instanceof UsageError ? `\n\n${USAGE}` : ''}`)
  process.exitCode = code
}
