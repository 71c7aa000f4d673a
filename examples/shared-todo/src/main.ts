/** `npm start`: the shared-todo story with both devices in temporary directories. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runSharedTodo } from './story.ts'

const root = await mkdtemp(join(tmpdir(), 'didbase-shared-todo-'))
try {
  const result = await runSharedTodo({
    laptopDirectory: join(root, 'laptop'),
    phoneDirectory: join(root, 'phone'),
    log: (line) => console.log(line)
  })
  const same = JSON.stringify(result.heads.laptop) === JSON.stringify(result.heads.phone)
  console.log(`done    laptop and phone hold the same log: ${same}`)
} finally {
  await rm(root, { recursive: true, force: true })
}
