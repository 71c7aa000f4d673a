// A dApp outside the monorepo: type-checked with skipLibCheck: false against the packed
// packages, then run. It prints one JSON line that test/consumer.spec.ts checks.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDidbase, defineSchema, type Infer, s } from '@didbase/sdk'

const todo = defineSchema('Todo', s.struct({ title: s.string(), done: s.bool() }))
type Todo = Infer<typeof todo>

const root = await mkdtemp(join(tmpdir(), 'didbase-consumer-app-'))
const alice = await createDidbase({ directory: join(root, 'alice') })
const bob = await createDidbase({ directory: join(root, 'bob') })
try {
  const todos = await alice.keyValue('todos', { schema: todo })
  await todos.put('milk', { title: 'Buy milk', done: false })
  const mine = await todos.get('milk')
  // Types come from the schema: these lines are the type-check's assertions.
  const title: string | undefined = mine?.title
  // @ts-expect-error `done` is a boolean in the schema
  const notAString: string | undefined = mine?.done
  let refused = ''
  try {
    await todos.put('beer', { title: 42, done: false } as unknown as Todo)
  } catch (err) {
    refused = (err as Error).name
  }

  await bob.dial(alice.multiaddrs[0]!)
  const replica = await bob.keyValue<Todo>(todos.address)
  const updated = new Promise((resolve) => replica.addEventListener('update', resolve, { once: true }))
  if ((await replica.get('milk')) === undefined) await updated
  const replicated = await replica.get('milk')
  const writers = []
  for await (const { writer } of replica.entries()) writers.push(writer)

  console.log(JSON.stringify({ alice: alice.did, title, notAString: typeof notAString, refused, replicated, writers }))
} finally {
  await bob.close()
  await alice.close()
  await rm(root, { recursive: true, force: true })
}
