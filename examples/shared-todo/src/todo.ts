/** The todo list's shape, and reading it back in an order every device agrees on. */
import { defineSchema, type Infer, type KeyValueDatabase, s } from '@didbase/sdk'

/**
 * Every todo must match this schema. Its CID is part of the list's address, so both
 * devices (and any replica) refuse a malformed todo, and values read back are typed.
 */
export const Todo = defineSchema('Todo', s.struct({
  title: s.string(),
  done: s.bool()
}))
export type Todo = Infer<typeof Todo>

/** A todo as a device sees it: its key, its value, and the DID that signed it. */
export interface TodoItem extends Todo {
  id: string
  writer: string
}

export type TodoList = KeyValueDatabase<Todo>

/** Every todo on this device, sorted by id: replicas may iterate in different orders. */
export async function readList (list: TodoList): Promise<TodoItem[]> {
  const items: TodoItem[] = []
  for await (const { key, value, writer } of list.entries()) items.push({ id: key, title: value.title, done: value.done, writer })
  return items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export function formatList (items: TodoItem[]): string {
  return items.map((t) => `[${t.done ? 'x' : ' '}] ${t.title}`).join(', ')
}
