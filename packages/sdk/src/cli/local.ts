/** `init` and `id`: they touch only the key file, so they load no networking code. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IDENTITY_FILE, loadOrCreateIdentity } from '@didbase/access/identity'
import type { CommandLine } from './args.js'
import { NotFoundError } from './errors.js'
import { print } from './output.js'

export async function init (cli: CommandLine): Promise<void> {
  const identity = await loadOrCreateIdentity(cli.dir)
  print(cli, `${identity.did}\n(identity in ${join(cli.dir, IDENTITY_FILE)})`, { did: identity.did })
}

export async function id (cli: CommandLine): Promise<void> {
  try {
    await readFile(join(cli.dir, IDENTITY_FILE))
  } catch {
    throw new NotFoundError(`no identity in ${cli.dir}; run: didbase init --dir ${cli.dir}`)
  }
  const identity = await loadOrCreateIdentity(cli.dir)
  print(cli, identity.did, { did: identity.did })
}
