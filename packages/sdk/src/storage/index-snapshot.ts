/**
 * Where a key-value or document database keeps the snapshot of its record index between
 * runs, in the node's datastore (LevelDB in Node, IndexedDB in browsers):
 *
 * - the snapshot itself, one record: a reopened database starts from it and indexes only
 *   what its heads reach beyond it, so opening a large database does not read its log again;
 * - each key's deciding entry, one record per key, and the heads they were decided at: a
 *   database reopened with the same heads answers its first reads from them, one small read
 *   each, before it has parsed the snapshot.
 *
 * All of them are written in one batch, so they always agree.
 */
import type { Datastore } from 'interface-datastore'
import { Key } from 'interface-datastore'
import { base64url } from 'multiformats/bases/base64'

export interface SnapshotStore {
  load: () => Promise<Uint8Array | undefined>
  /** Save the snapshot, the records of `keys` that changed, and `heads`, the heads they were decided at. */
  save: (snapshot: Uint8Array, heads: readonly string[], keys: Iterable<[key: string, record: Uint8Array]>) => Promise<void>
  /** The heads the key records were last saved at, sorted; undefined when none were. */
  lookupHeads: () => Promise<string[] | undefined>
  /** The record of `key` saved at `lookupHeads`, if the key had one then. */
  lookup: (key: string) => Promise<Uint8Array | undefined>
}

async function maybe (datastore: Datastore, key: Key): Promise<Uint8Array | undefined> {
  try {
    return await datastore.get(key)
  } catch {
    return undefined
  }
}

export function snapshotStore (datastore: Datastore, address: string): SnapshotStore {
  // The address's last part is its manifest CID: letters and digits only, a valid key.
  const base = `/didbase/record-index/${address.split('/').at(-1) ?? address}`
  const snapshotKey = new Key(base)
  const headsKey = new Key(`${base}-keys/heads`)
  // Record keys are any string: base64url keeps them one datastore key part.
  const recordKey = (key: string): Key => new Key(`${base}-keys/k${base64url.baseEncode(new TextEncoder().encode(key))}`)
  return {
    load: async () => maybe(datastore, snapshotKey),
    save: async (snapshot, heads, keys) => {
      const batch = datastore.batch()
      batch.put(snapshotKey, snapshot)
      for (const [key, record] of keys) batch.put(recordKey(key), record)
      batch.put(headsKey, new TextEncoder().encode(JSON.stringify([...heads].sort())))
      await batch.commit()
    },
    lookupHeads: async () => {
      const bytes = await maybe(datastore, headsKey)
      if (bytes === undefined) return undefined
      try {
        const heads = JSON.parse(new TextDecoder().decode(bytes)) as unknown
        return Array.isArray(heads) && heads.every((h) => typeof h === 'string') ? heads : undefined
      } catch {
        return undefined
      }
    },
    lookup: async (key) => maybe(datastore, recordKey(key))
  }
}
