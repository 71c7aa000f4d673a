/** `npm start`: the gated-board story with three peers in temporary directories. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runGatedBoard } from './board.ts'

const root = await mkdtemp(join(tmpdir(), 'didbase-gated-board-'))
try {
  await runGatedBoard({
    ownerDirectory: join(root, 'owner'),
    aliceDirectory: join(root, 'alice'),
    bobDirectory: join(root, 'bob'),
    log: (line) => console.log(line)
  })
  console.log('done')
} finally {
  await rm(root, { recursive: true, force: true })
}
