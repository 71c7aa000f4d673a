/**
 * What a ciphertext is bound to, as AEAD associated data: it decrypts only in the database,
 * epoch and record it was written for, so it cannot be moved to another.
 */
import * as dagCbor from '@ipld/dag-cbor'

export interface Binding {
  /** The database address. */
  address: string
  /** The epoch whose key encrypts it: 0 for the first; later ones are named by entry hashes. */
  epoch: number | string
  /** The blinded record key (key-value and documents), or what the ciphertext is for (`'epoch-key'`, an event's hash). */
  record: string
}

/** `purpose` keeps one kind of ciphertext from standing in for another. */
export function associatedData (purpose: string, binding: Binding): Uint8Array {
  return dagCbor.encode([`didbase/${purpose}/1`, binding.address, binding.epoch, binding.record])
}
