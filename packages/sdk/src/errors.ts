export { AccessDeniedError, CorruptBlockError, InvalidDidError, InvalidInviteError, InvalidKeyError, InvalidPolicyError, InvariantError, InviteExpiredError } from '@didbase/access'

/** A string that looks like a database address but is not a valid one. */
export class InvalidAddressError extends Error {
  static override name = 'InvalidAddressError'
  override name = 'InvalidAddressError'
}

/**
 * Another didbase node already runs on this directory: in browsers, another tab or window
 * of the same origin (in Node, LevelDB's own lock refuses the second opener).
 */
export class DirectoryInUseError extends Error {
  static override name = 'DirectoryInUseError'
  override name = 'DirectoryInUseError'
}

/** No peer and no local store had the database's manifest before the deadline. */
export class UnknownDatabaseError extends Error {
  static override name = 'UnknownDatabaseError'
  override name = 'UnknownDatabaseError'
}

/** The address names a database of another type than the one asked for. */
export class WrongDatabaseTypeError extends Error {
  static override name = 'WrongDatabaseTypeError'
  override name = 'WrongDatabaseTypeError'
}

/** The address names an OrbitDB database that was not made by didbase (its policy is unknown). */
export class UnsupportedDatabaseError extends Error {
  static override name = 'UnsupportedDatabaseError'
  override name = 'UnsupportedDatabaseError'
}

/**
 * A name already opens another database here (`address`), made with options that
 * contradict the ones given: open it by address, or give the new database another name.
 */
export class NameTakenError extends Error {
  static override name = 'NameTakenError'
  override name = 'NameTakenError'
  readonly address: string

  constructor (message: string, address: string) {
    super(message)
    this.address = address
  }
}

/** A peer asked to hold a write does not have the database open: it does not replicate it. */
export class NotReplicatedError extends Error {
  static override name = 'NotReplicatedError'
  override name = 'NotReplicatedError'
  readonly peer: string

  constructor (message: string, peer: string) {
    super(message)
    this.peer = peer
  }
}

/** A value that cannot be stored: not serialisable as dag-cbor, or a bad key. Nothing was written. */
export class InvalidValueError extends Error {
  static override name = 'InvalidValueError'
  override name = 'InvalidValueError'
}

/** The database handle or the node was closed. */
export class ClosedError extends Error {
  static override name = 'ClosedError'
  override name = 'ClosedError'
}

/** Why an always-on peer would not keep a database. */
export type PinRefusal = 'not-accepting' | 'not-allowed' | 'unknown-database' | 'unsupported' | 'invalid-request' | 'failed'

/** An always-on peer (`didbase peer`) refused to keep and serve a database; `reason` says why. */
export class PinRefusedError extends Error {
  static override name = 'PinRefusedError'
  override name = 'PinRefusedError'
  readonly reason: PinRefusal

  constructor (message: string, reason: PinRefusal) {
    super(message)
    this.reason = reason
  }
}

/** A heads exchange sent bytes that cannot be a dag-cbor entry; the exchange is dropped. */
export class MalformedHeadsError extends Error {
  static override name = 'MalformedHeadsError'
  override name = 'MalformedHeadsError'
}

/** A query that cannot run: an unknown field or operator, a value of the wrong kind, a cursor of another query. */
export class InvalidQueryError extends Error {
  static override name = 'InvalidQueryError'
  override name = 'InvalidQueryError'
}
