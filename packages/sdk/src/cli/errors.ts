/** The errors of the `didbase` command; main.ts maps each name to an exit code. */

/** The command line is wrong; the message says what to type. Exit code 1. */
export class UsageError extends Error {
  static override name = 'UsageError'
  override name = 'UsageError'
  /** The help printed after the message: the command's own, or (when undefined) the whole USAGE. */
  readonly usage: string | undefined

  constructor (message: string, usage?: string) {
    super(message)
    this.usage = usage
  }
}

/** No identity, database or record where one was asked for. Exit code 3. */
export class NotFoundError extends Error {
  static override name = 'NotFoundError'
  override name = 'NotFoundError'
}

/** The `didbase peer` config file cannot be read or is not what it should be. Exit code 1. */
export class ConfigError extends Error {
  static override name = 'ConfigError'
  override name = 'ConfigError'
}

/** `didbase sync`: the peer given with `--peer` could not be reached. Exit code 4. */
export class PeerUnreachableError extends Error {
  static override name = 'PeerUnreachableError'
  override name = 'PeerUnreachableError'
}

/** `didbase sync`: the peer went quiet before the copy was up to date. Exit code 4. */
export class SyncTimeoutError extends Error {
  static override name = 'SyncTimeoutError'
  override name = 'SyncTimeoutError'
}

/** A write given `--peer`: the peer did not confirm it holds the write in time. Exit code 4. */
export class NotDeliveredError extends Error {
  static override name = 'NotDeliveredError'
  override name = 'NotDeliveredError'
}
