/** The board's posts: their schema, and reading a board back. */
import { type DocumentsDatabase, defineSchema, type Infer, s } from '@didbase/sdk'

/**
 * A post is its id and its text. There is no author field: every record carries the DID
 * that signed it (`writer`), and ownership is decided from that, not from the value.
 */
export const Post = defineSchema('Post', s.struct({
  _id: s.string(),
  text: s.string()
}))
export type Post = Infer<typeof Post>

export type Board = DocumentsDatabase<Post>

/** A post as a replica shows it. */
export interface PostItem {
  id: string
  text: string
  writer: string
}

/** Every post on this replica, latest write first. */
export async function readBoard (board: Board): Promise<PostItem[]> {
  const posts: PostItem[] = []
  for await (const { key, value, writer } of board.entries()) posts.push({ id: key, text: value.text, writer })
  return posts
}
