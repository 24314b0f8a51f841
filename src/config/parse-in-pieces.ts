import { isMap, parseDocument } from 'yaml';
import { duplicateKeys } from './positions.js';

/** Below this size the whole-document parse is fast enough and is the only one used. */
const MIN_BYTES = 256 * 1024;
/** Lines per piece of a big map: small enough that each piece's syntax tree dies young. */
const PIECE_LINES = 1000;

const TOP_KEY = /^[A-Za-z_][A-Za-z0-9_-]*:(?:[ ]|$)/;
const BARE_HEADER = /^([A-Za-z_][A-Za-z0-9_-]*):[ ]*(?:#.*)?$/;

/**
 * The data of a big config file, parsed one top-level key at a time and a big block map (the
 * 130 000 services) a thousand entries at a time. The YAML library keeps the whole syntax tree of
 * a document alive while it builds it; for a 4.5 MB file half the time went to the garbage
 * collector copying that tree. Pieces are cut only where a new entry of a map starts at the
 * map's indentation, so every piece is itself a valid YAML map.
 *
 * Returns undefined whenever the file is anything but plain: directives, several documents,
 * tabs, CR line ends, `__proto__` anywhere, a piece with any error or warning, a duplicate key,
 * an alias to another piece. The caller then parses the whole document as
 * before, so problems are always found, and placed, by the one full parse.
 */
export function parseInPieces(text: string): Record<string, unknown> | undefined {
  if (text.length < MIN_BYTES || /[\t\r]/.test(text) || text.includes('__proto__') || /^(?:%|---|\.\.\.)/m.test(text)) return undefined;
  const lines = text.split('\n');
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || line[0] === ' ' || line[0] === '#') continue;
    if (!TOP_KEY.test(line)) return undefined;
    starts.push(i);
  }
  const data: Record<string, unknown> = {};
  for (let s = 0; s < starts.length; s++) {
    const from = starts[s]!;
    const to = starts[s + 1] ?? lines.length;
    const header = BARE_HEADER.exec(lines[from]!);
    const value = header && to - from > PIECE_LINES ? bigMap(lines, from + 1, to) : pieceValue(lines.slice(from, to).join('\n'), (lines[from]!.split(':')[0])!);
    if (value === undefined) return undefined;
    const key = header?.[1] ?? lines[from]!.split(':')[0]!;
    if (Object.hasOwn(data, key)) return undefined;
    data[key] = value.value;
  }
  return data;
}

/** One top-level entry parsed alone: its value, or undefined when it is not exactly `key: value`. */
function pieceValue(piece: string, key: string): { value: unknown } | undefined {
  const map = parseMap(piece);
  if (!map) return undefined;
  const keys = Object.keys(map);
  return keys.length === 1 && keys[0] === key ? { value: map[key] } : undefined;
}

/** The entries of a block map (lines from..to), parsed a piece at a time and joined. */
function bigMap(lines: string[], from: number, to: number): { value: Record<string, unknown> } | undefined {
  let indent = -1;
  const entryStarts: number[] = [];
  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    const content = line.search(/[^ ]/);
    if (content < 0 || line[content] === '#') continue;
    if (indent < 0) indent = content;
    if (content < indent || indent === 0) return undefined;
    if (content === indent) {
      if (line[content] === '-' || line[content] === '?') return undefined;
      entryStarts.push(i);
    }
  }
  if (indent < 0) return undefined;
  const value: Record<string, unknown> = {};
  let pieceStart = from;
  for (let e = 0; e <= entryStarts.length; e++) {
    const next = entryStarts[e] ?? to;
    if (next - pieceStart < PIECE_LINES && e < entryStarts.length) continue;
    if (next > pieceStart) {
      const map = parseMap(lines.slice(pieceStart, next).join('\n'));
      if (!map) return undefined;
      for (const [k, v] of Object.entries(map)) {
        if (Object.hasOwn(value, k)) return undefined;
        value[k] = v;
      }
    }
    pieceStart = next;
  }
  return { value };
}

function parseMap(piece: string): Record<string, unknown> | undefined {
  const doc = parseDocument(piece, { uniqueKeys: false, merge: true, prettyErrors: false });
  if (doc.errors.length || doc.warnings.length || duplicateKeys(doc).length) return undefined;
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) return undefined;
  try {
    const js = doc.toJS() as unknown;
    return js && typeof js === 'object' && !Array.isArray(js) ? (js as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
