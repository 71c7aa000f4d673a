/** The shared list's shape, and how a page reads it. */
import { defineSchema, type Infer, type KeyValueDatabase, s } from '@didbase/sdk'

/**
 * Every todo must match this schema, at most 200 bytes encoded. Its CID is part of the
 * list's address, so every replica (other pages, the peer) refuses a todo that does not.
 */
export const Todo = defineSchema('Todo', s.struct({
  title: s.string(),
  done: s.bool()
}), { maxBytes: 200 })
export type Todo = Infer<typeof Todo>

export type TodoList = KeyValueDatabase<Todo>

/** A todo as a page shows it: its key, its value, and the DID that signed it. */
export interface TodoItem extends Todo {
  id: string
  writer: string
}

/** Every todo on this device, oldest first (keys start with the time they were made). */
export async function readList (list: TodoList): Promise<TodoItem[]> {
  const items: TodoItem[] = []
  for await (const { key, value, writer } of list.entries()) items.push({ id: key, ...value, writer })
  return items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** A key that sorts by creation time, and never collides between pages. */
export function newTodoId (): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${crypto.randomUUID().slice(0, 8)}`
}
