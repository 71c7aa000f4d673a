/** A string is not a DID this package can use (malformed, or a method it cannot verify). */
export class InvalidDidError extends Error {
  static override name = 'InvalidDidError'
  override name = 'InvalidDidError'
  readonly did: string

  constructor (did: string, why: string) {
    super(`Invalid DID ${JSON.stringify(did.length > 120 ? `${did.slice(0, 120)}…` : did)}: ${why}`)
    this.did = did
  }
}

/** A seed or key of the wrong shape was given for an identity. */
export class InvalidKeyError extends Error {
  static override name = 'InvalidKeyError'
  override name = 'InvalidKeyError'
}

/** The database's policy does not let this DID make this write. Nothing was signed or written. */
export class AccessDeniedError extends Error {
  static override name = 'AccessDeniedError'
  override name = 'AccessDeniedError'
  readonly did: string
  readonly address: string
  /** The same reason a replica would give for refusing the entry. */
  readonly reason: RejectionReason

  constructor (did: string, address: string, why = 'is not a writer of this database', reason: RejectionReason = 'not-a-writer') {
    super(`${did} ${why} (${address})`)
    this.did = did
    this.address = address
    this.reason = reason
  }
}

/** An invite token is not valid for this database, this DID or this role. Nothing was written. */
export class InvalidInviteError extends Error {
  static override name = 'InvalidInviteError'
  override name = 'InvalidInviteError'
  readonly reason: RejectionReason

  constructor (message: string, reason: RejectionReason = 'invalid-invite', options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}

/** An invite is past its `exp` (or before its `nbf`). Ask its issuer for a new one. */
export class InviteExpiredError extends Error {
  static override name = 'InviteExpiredError'
  override name = 'InviteExpiredError'
  readonly reason: RejectionReason = 'invite-expired'
  /** When the invite expired, in ms since the epoch. */
  readonly expiredAt: number

  constructor (message: string, expiredAt: number) {
    super(message)
    this.expiredAt = expiredAt
  }
}

/** A block's bytes do not hash to its CID: a corrupt store or a hostile peer. It was not used. */
export class CorruptBlockError extends Error {
  static override name = 'CorruptBlockError'
  override name = 'CorruptBlockError'
  readonly cid: string

  constructor (cid: string, options?: ErrorOptions) {
    super(`block ${cid} does not match its CID; it was not used`, options)
    this.cid = cid
  }
}

/** A policy block is missing, does not match its CID, or is not a policy this package knows. */
export class InvalidPolicyError extends Error {
  static override name = 'InvalidPolicyError'
  override name = 'InvalidPolicyError'
}

/** Why a replica refused an entry. Stable strings: apps may branch on them. */
export type RejectionReason =
  | 'malformed-entry'
  | 'invalid-did'
  | 'signer-mismatch'
  | 'bad-signature'
  | 'not-a-writer'
  | 'wrong-database'
  | 'unavailable'
  | 'not-an-admin'
  | 'not-the-owner'
  | 'invalid-operation'
  | 'invalid-clock'
  | 'invalid-invite'
  | 'invite-expired'
  | 'invite-cancelled'
  | 'invite-used'
  | 'rejected-past'
  | 'schema-mismatch'
  | 'not-a-reader'
  | 'stale-key'
  | 'invalid-delegation'
  | 'delegation-expired'
  | 'device-revoked'
  | 'not-a-member'
  | 'invite-revoked'
  | 'entry-too-large'

/** Longest DID an `EntryRejectedError` keeps: a DID in an entry is the author's to choose. */
export const MAX_REPORTED_DID = 256
/** Longest detail it keeps: details quote what the entry carried. */
export const MAX_REPORTED_DETAIL = 1024

/**
 * `text` cut to at most `max` characters, as a string of its own. A refusal is remembered, so it must
 * not keep an attacker's 4 MiB string alive: neither whole nor through a slice of it (V8's
 * sliced strings point into their parent).
 */
export function boundedText (text: string, max: number): string {
  if (text.length <= max) return [...text].join('')
  // The note fits within `max`, so bounding a bounded text again leaves it as it is.
  const note = `… (${text.length} characters)`
  return [...`${text.slice(0, Math.max(0, max - note.length))}${note}`].join('')
}

/**
 * Thrown by an access check on a replica when it refuses an entry. The SDK turns it
 * into an `entry:rejected` event; it never reaches the application as an exception.
 */
export class EntryRejectedError extends Error {
  static override name = 'EntryRejectedError'
  override name = 'EntryRejectedError'
  readonly hash: string
  readonly did: string
  readonly reason: RejectionReason
  /** What was wrong, without the hash and DID. */
  readonly detail: string

  constructor (hash: string, did: string, reason: RejectionReason, detail: string) {
    const [boundedHash, boundedDid, boundedDetail] = [boundedText(String(hash), MAX_REPORTED_DID), boundedText(String(did), MAX_REPORTED_DID), boundedText(String(detail), MAX_REPORTED_DETAIL)]
    super(`entry ${boundedHash} from ${boundedDid} rejected (${reason}): ${boundedDetail}`)
    this.hash = boundedHash
    this.did = boundedDid
    this.reason = reason
    this.detail = boundedDetail
  }
}

/** Something didbase holds true did not hold (an entry judged before its past, say): a bug, or a damaged store. Please report it. */
export class InvariantError extends Error {
  static override name = 'InvariantError'
  override name = 'InvariantError'
}

/** The store that keeps an identity's secret (IndexedDB in a browser) failed; nothing was written. */
export class SecretStoreError extends Error {
  static override name = 'SecretStoreError'
  override name = 'SecretStoreError'
}

/** A ciphertext could not be decrypted with the key given: not a member's, moved to another record, epoch or database, or changed. */
export class DecryptionError extends Error {
  static override name = 'DecryptionError'
  override name = 'DecryptionError'
}

/** A delegation (a CACAO from a wallet, or a device delegation from a root did:key) is malformed, forged or not for this key. */
/** A kept session's delegation has expired: sign in again. */
export class SessionExpiredError extends Error {
  static override name = 'SessionExpiredError'
  override name = 'SessionExpiredError'
  readonly reason: RejectionReason = 'delegation-expired'
  readonly expiresAt: number

  constructor (message: string, expiresAt: number) {
    super(message)
    this.expiresAt = expiresAt
  }
}

export class InvalidDelegationError extends Error {
  static override name = 'InvalidDelegationError'
  override name = 'InvalidDelegationError'
  readonly reason: RejectionReason = 'invalid-delegation'
}
