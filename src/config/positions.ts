import { isAlias, isMap, isNode, isScalar, isSeq, visit, type Document, type Node, type Pair } from 'yaml';

type Segment = string | number;

/**
 * Finding a field's node in a big file: the YAML library looks keys up by scanning a map's
 * items, so one lookup per problem in a map of 130 000 services is quadratic. Each map is
 * indexed once, on first use.
 */
const indexes = new WeakMap<object, Map<string, Pair>>();

function pairsOf(map: { items: Pair[] }): Map<string, Pair> {
  let index = indexes.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key !== undefined && !index.has(key)) index.set(key, pair);
    }
    indexes.set(map, index);
  }
  return index;
}

/** The pair of `key` in the node at `mapPath`, if that node is a map holding it. */
export function pairAt(doc: Document, mapPath: Segment[], key: Segment): Pair | undefined {
  const map = nodeAt(doc, mapPath);
  return isMap(map) ? pairsOf(map as unknown as { items: Pair[] }).get(String(key)) : undefined;
}

/** The node at `p` (a key path through maps and sequences), or undefined. */
export function nodeAt(doc: Document, p: Segment[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const seg of p) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) node = pairsOf(node as unknown as { items: Pair[] }).get(String(seg))?.value;
    else if (isSeq(node)) node = typeof seg === 'number' || /^\d+$/.test(seg) ? node.items[Number(seg)] : undefined;
    else return undefined;
  }
  return isNode(node) ? node : undefined;
}

/**
 * Duplicate keys, found in one pass with a set per map (the library's own check compares each
 * key with every earlier one). Merge keys (`<<`) may repeat.
 */
export function duplicateKeys(doc: Document): { offset: number; key: string }[] {
  const found: { offset: number; key: string }[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || typeof pair.key.value === 'symbol') continue;
        const key = String(pair.key.value);
        if (key === '<<') continue;
        if (seen.has(key)) found.push({ offset: pair.key.range?.[0] ?? 0, key });
        seen.add(key);
      }
    },
  });
  return found;
}
