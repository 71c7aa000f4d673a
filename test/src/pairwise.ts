/**
 * All-pairs reduction of a product of dimensions: rows such that every pair of values of
 * two dimensions that is allowed appears in some row. Greedy and deterministic (the same
 * rows on every run): each row starts from the first pair not covered yet and fills the
 * other dimensions with the value covering the most pairs still open.
 */
export type Dimensions = Record<string, readonly string[]>
export type Row<D extends Dimensions> = { [K in keyof D]: D[K][number] }

export function pairwise<D extends Dimensions> (dims: D, allowed: (row: Partial<Row<D>>) => boolean = () => true): Array<Row<D>> {
  const names = Object.keys(dims) as Array<keyof D & string>
  const key = (a: string, x: string, b: string, y: string): string => `${a}=${x}|${b}=${y}`
  const open = new Set<string>()
  for (const [i, a] of names.entries()) {
    for (const b of names.slice(i + 1)) {
      for (const x of dims[a] as readonly string[]) for (const y of dims[b] as readonly string[]) if (allowed({ [a]: x, [b]: y } as Partial<Row<D>>)) open.add(key(a, x, b, y))
    }
  }
  const covers = (row: Partial<Row<D>>): string[] => {
    const set = Object.entries(row) as Array<[string, string]>
    return set.flatMap(([a, x], i) => set.slice(i + 1).map(([b, y]) => (names.indexOf(a as keyof D & string) < names.indexOf(b as keyof D & string) ? key(a, x, b, y) : key(b, y, a, x)))).filter((k) => open.has(k))
  }
  const rows: Array<Row<D>> = []
  while (open.size > 0) {
    const [first] = open
    const row: Partial<Row<D>> = {}
    for (const part of (first as string).split('|')) {
      const [name, value] = part.split('=') as [keyof D, string]
      row[name] = value as never
    }
    for (const name of names) {
      if (row[name] !== undefined) continue
      let best: string | undefined
      let bestCount = -1
      for (const value of dims[name] as readonly string[]) {
        const candidate = { ...row, [name]: value }
        if (!allowed(candidate)) continue
        const count = covers(candidate).length
        if (count > bestCount) {
          best = value
          bestCount = count
        }
      }
      if (best === undefined) throw new Error(`no allowed value of ${name} completes ${JSON.stringify(row)}`)
      row[name] = best as never
    }
    for (const k of covers(row)) open.delete(k)
    rows.push(row as Row<D>)
  }
  return rows
}
