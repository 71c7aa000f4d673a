/** The typed error a local write gets for what a replica would reject it for. */
import { AccessDeniedError, InvalidInviteError, InviteExpiredError } from '../errors.js'
import type { Denial } from '../judge/judge.js'

export function deniedError (did: string, address: string, denial: Denial): Error {
  switch (denial.reason) {
    case 'invite-expired':
      return denial.cause instanceof InviteExpiredError ? denial.cause : new InvalidInviteError(denial.detail, denial.reason)
    case 'invalid-invite':
    case 'invite-cancelled':
    case 'invite-used':
      return new InvalidInviteError(denial.detail, denial.reason)
    case 'not-an-admin':
      return new AccessDeniedError(did, address, 'is not an admin of this database', denial.reason)
    case 'not-the-owner':
      return new AccessDeniedError(did, address, `may not change this record: ${denial.detail}`, denial.reason)
    case 'schema-mismatch':
      return denial.cause instanceof Error ? denial.cause : new AccessDeniedError(did, address, denial.detail, denial.reason)
    case 'not-a-writer':
      return new AccessDeniedError(did, address, 'is not a writer of this database; ask an admin for an invite', denial.reason)
    default:
      return new AccessDeniedError(did, address, denial.detail, denial.reason)
  }
}

