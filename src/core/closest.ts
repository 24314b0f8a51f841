/** "Did you mean": the names nearest to a misspelt one, for configuration messages. */

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/**
 * Up to `limit` of `names` close to `wanted`, nearest first: a few edits away (a third of the
 * length, at least 2), or one containing the other (`orders` for `orders_total`).
 */
export function closestNames(wanted: string, names: Iterable<string>, limit = 3): string[] {
  const w = wanted.toLowerCase();
  const scored: { name: string; d: number }[] = [];
  for (const name of new Set(names)) {
    if (name === wanted) continue;
    const n = name.toLowerCase();
    const d = editDistance(w, n);
    const near = d <= Math.max(2, Math.floor(Math.max(w.length, n.length) / 3));
    const contains = Math.min(w.length, n.length) >= 4 && (n.includes(w) || w.includes(n));
    if (near || contains) scored.push({ name, d: near ? d : d + 100 });
  }
  return scored.sort((a, b) => a.d - b.d || a.name.localeCompare(b.name)).slice(0, limit).map((s) => s.name);
}
