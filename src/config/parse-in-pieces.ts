import { isMap, parseDocument } from 'yaml';
import { parseFlowLine } from './flow-line.js';
import { duplicateKeys } from './positions.js';

/** Below this size the whole-document parse is fast enough and is the only one used. */
const MIN_BYTES = 256 * 1024;
/**
 * Lines per piece of a big map that the library parses: small enough that each piece's syntax tree
 * dies young. With 1 000 lines the trees outlived several scavenges and were copied into the old
 * space; 100 lines cut the library's time on the 130 000-service file by 40 %.
 */
const PIECE_LINES = 100;
/** A top-level map longer than this is read entry by entry (bigMap); a shorter one in one parse. */
const BIG_MAP_LINES = 1000;

const TOP_KEY = /^[A-Za-z_][A-Za-z0-9_-]*:(?:[ ]|$)/;
const BARE_HEADER = /^([A-Za-z_][A-Za-z0-9_-]*):[ ]*(?:#.*)?$/;

/**
 * The data of a big config file, parsed one top-level key at a time and a big block map (the
 * 130 000 services) entry by entry: one-line flow entries directly (parseFlowLine), the others
 * by the library a hundred lines at a time. The YAML library keeps the whole syntax tree of
 * a document alive while it builds it; for a 4.5 MB file half the time went to the garbage
 * collector copying that tree. Pieces are cut only where a new entry of a map starts at the
 * map's indentation, so every piece is itself a valid YAML map.
 *
 * Returns undefined whenever the file is anything but plain: directives, several documents,
 * tabs, CR line ends, `__proto__` anywhere, a piece with any error or warning, a duplicate key,
 * an alias to another piece. The caller then parses the whole document as before, so YAML
 * problems are always found, and placed, by the one full parse.
 */
export function parseInPieces(text: string): Record<string, unknown> | undefined {
  return readInPieces(text)?.data;
}

/** A file read in pieces: its data, and where each entry of a big map is, to place problems. */
export interface PiecewiseRead {
  data: Record<string, unknown>;
  /**
   * The file with the lines of every big-map entry blanked but those `paths` name (by their first
   * two keys) and each big map's first: a document the library parses fast whose nodes have the
   * file's own lines and columns, so problems are placed as the whole-document parse places them.
   */
  sparseText(paths: readonly (string | number)[][]): string;
}

/** Lines [from, to) of the file. */
type LineRange = readonly [number, number];

export function readInPieces(text: string): PiecewiseRead | undefined {
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
  const bigMaps = new Map<string, BigMap>();
  for (let s = 0; s < starts.length; s++) {
    const from = starts[s]!;
    const to = starts[s + 1] ?? lines.length;
    const header = BARE_HEADER.exec(lines[from]!);
    const isBig = header !== null && to - from > BIG_MAP_LINES;
    const big = isBig ? bigMap(lines, from + 1, to) : undefined;
    const value = isBig ? big : pieceValue(lines.slice(from, to).join('\n'), lines[from]!.split(':')[0]!);
    if (value === undefined) return undefined;
    const key = header?.[1] ?? lines[from]!.split(':')[0]!;
    if (Object.hasOwn(data, key)) return undefined;
    data[key] = value.value;
    if (big) bigMaps.set(key, big);
  }
  return { data, sparseText: (paths) => sparseText(lines, bigMaps, paths) };
}

function sparseText(lines: string[], bigMaps: Map<string, BigMap>, paths: readonly (string | number)[][]): string {
  const blank = new Uint8Array(lines.length);
  const keep = new Set<LineRange>();
  for (const big of bigMaps.values()) {
    for (const range of big.ranges.values()) for (let i = range[0]; i < range[1]; i++) blank[i] = 1;
    if (big.first) keep.add(big.first);
  }
  for (const p of paths) {
    const range = p.length >= 2 ? bigMaps.get(String(p[0]))?.ranges.get(String(p[1])) : undefined;
    if (range) keep.add(range);
  }
  for (const range of keep) for (let i = range[0]; i < range[1]; i++) blank[i] = 0;
  return lines.map((line, i) => (blank[i] ? '' : line)).join('\n');
}

/** One top-level entry parsed alone: its value, or undefined when it is not exactly `key: value`. */
function pieceValue(piece: string, key: string): { value: unknown } | undefined {
  const map = parseMap(piece);
  if (!map) return undefined;
  const keys = Object.keys(map);
  return keys.length === 1 && keys[0] === key ? { value: map[key] } : undefined;
}

/**
 * The entries of a block map (lines from..to): each one-line flow entry in parseFlowLine's subset
 * read directly, the others parsed by the library a piece at a time, all joined in file order.
 */
interface BigMap {
  value: Record<string, unknown>;
  /** The lines of each key: its own line(s) when read directly, its whole piece when the library read it. */
  ranges: Map<string, LineRange>;
  first: LineRange | undefined;
}

function bigMap(lines: string[], from: number, to: number): BigMap | undefined {
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
  const ranges = new Map<string, LineRange>();
  let first: LineRange | undefined;
  const add = (key: string, v: unknown, range: LineRange): boolean => {
    if (Object.hasOwn(value, key)) return false;
    value[key] = v;
    ranges.set(key, range);
    first ??= range;
    return true;
  };
  // Entries the library reads: lines pieceStart..(the entry being looked at), none when -1.
  let pieceStart = -1;
  const flushPiece = (end: number): boolean => {
    if (pieceStart < 0) return true;
    const range: LineRange = [pieceStart, end];
    const map = parseMap(lines.slice(pieceStart, end).join('\n'));
    pieceStart = -1;
    return map !== undefined && Object.entries(map).every(([k, v]) => add(k, v, range));
  };
  for (let e = 0; e < entryStarts.length; e++) {
    const start = entryStarts[e]!;
    const end = entryStarts[e + 1] ?? to;
    const fast = onlyCommentsBetween(lines, start + 1, end) ? parseFlowLine(lines[start]!) : undefined;
    if (fast) {
      if (!flushPiece(start) || !add(fast.key, fast.value, [start, end])) return undefined;
    } else if (pieceStart < 0) {
      pieceStart = start;
    } else if (start - pieceStart >= PIECE_LINES) {
      if (!flushPiece(start)) return undefined;
      pieceStart = start;
    }
  }
  return flushPiece(to) ? { value, ranges, first } : undefined;
}

/** True when lines from..to are blank or comments: after a closed flow value nothing else may follow. */
function onlyCommentsBetween(lines: string[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const trimmed = lines[i]!.trimStart();
    if (trimmed !== '' && trimmed[0] !== '#') return false;
  }
  return true;
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
