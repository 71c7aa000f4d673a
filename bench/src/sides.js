// The two sides of every comparison, on the same Helia node and storage: didbase (DID
// identity, policy, schema checks on) and raw OrbitDB 4 (default identity,
// IPFSAccessController). Each side says how to open a database and write to it.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDidbase, defineSchema, s } from '@didbase/sdk'
import { createOrbitDB } from '@orbitdb/core'

export const dirs = []

/** A schema on every didbase database: the checks a real app pays for are measured. */
const Value = defineSchema('Value', s.struct({ n: s.int() }))
const Doc = defineSchema('Doc', s.struct({ _id: s.string(), n: s.int() }))

export async function host (directory) {
  directory ??= await mkdtemp(join(tmpdir(), 'didbase-bench-'))
  if (!dirs.includes(directory)) dirs.push(directory)
  return { directory, didbase: await createDidbase({ directory }) }
}

export async function closeHost (h) {
  if (h.orbitdb) await h.orbitdb.stop()
  await h.didbase.close()
}

async function orbit (h) {
  h.orbitdb ??= await createOrbitDB({ ipfs: h.didbase.helia, directory: join(h.directory, 'raw-orbitdb') })
  return h.orbitdb
}

/** The OrbitDB log under a handle (protected in TypeScript). */
const logOf = (db) => db.log ?? db.db.log

export const sides = {
  didbase: {
    keyValue: async (h, nameOrAddress) => h.didbase.keyValue(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { schema: Value }),
    documents: async (h, name) => h.didbase.documents(name, { schema: Doc }),
    eventLog: async (h, nameOrAddress) => h.didbase.eventLog(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { schema: Value }),
    put: (db, i) => db.put(`k${i}`, { n: i }),
    putDoc: (db, i) => db.put({ _id: `d${i}`, n: i }),
    add: (db, i) => db.add({ n: i }),
    get: (db, key) => db.get(key),
    has: async (db, hash) => logOf(db).has(hash)
  },
  /** didbase with a mutable ACL: every replicated entry is judged against its causal past. */
  didbaseAcl: {
    keyValue: async (h, nameOrAddress) => h.didbase.keyValue(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { acl: true, schema: Value }),
    eventLog: async (h, nameOrAddress) => h.didbase.eventLog(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { acl: true, schema: Value }),
    put: (db, i) => db.put(`k${i}`, { n: i }),
    add: (db, i) => db.add({ n: i }),
    has: async (db, hash) => logOf(db).has(hash)
  },
  /** didbase, private with an ACL: values sealed under the current epoch of each entry's past; the replica that catches up is not a member. */
  didbasePrivateAcl: {
    keyValue: async (h, nameOrAddress) => h.didbase.keyValue(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { acl: true, schema: Value, private: true }),
    eventLog: async (h, nameOrAddress) => h.didbase.eventLog(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { acl: true, schema: Value, private: true }),
    put: (db, i) => db.put(`k${i}`, { n: i }),
    add: (db, i) => db.add({ n: i }),
    has: async (db, hash) => logOf(db).has(hash)
  },
  /** didbase, private: values and record keys sealed for the writer; the replica that catches up is not a member. */
  didbasePrivate: {
    keyValue: async (h, nameOrAddress) => h.didbase.keyValue(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { schema: Value, private: true }),
    eventLog: async (h, nameOrAddress) => h.didbase.eventLog(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { schema: Value, private: true }),
    put: (db, i) => db.put(`k${i}`, { n: i }),
    add: (db, i) => db.add({ n: i }),
    has: async (db, hash) => logOf(db).has(hash)
  },
  orbitdb: {
    keyValue: async (h, nameOrAddress) => (await orbit(h)).open(nameOrAddress, { type: 'keyvalue' }),
    documents: async (h, name) => (await orbit(h)).open(name, { type: 'documents' }),
    eventLog: async (h, nameOrAddress) => (await orbit(h)).open(nameOrAddress, { type: 'events' }),
    put: (db, i) => db.put(`k${i}`, { n: i }),
    putDoc: (db, i) => db.put({ _id: `d${i}`, n: i }),
    add: (db, i) => db.add({ n: i }),
    get: (db, key) => db.get(key),
    has: async (db, hash) => logOf(db).has(hash)
  }
}
