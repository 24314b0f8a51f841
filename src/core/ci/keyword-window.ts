/**
 * Which WINDOW bytes of a keyword stand for it in KeywordSearch: where its pairs of bytes are
 * least common in CI logs, by a rough model of the bytes and pairs logs are made of.
 */
export const WINDOW = 4;
/** What a pair already in the table weighs when a window is chosen, against one that is not (see rarestWindow). */
const SHARED_PAIR = 0.5;

/**
 * How often a byte turns up in CI logs, roughly (higher: more often): the window of a keyword is
 * put where its bytes are rare, so that the log's common pairs (`e `, `er`, timestamps' `:0`) seldom
 * belong to a window.
 */
function byteFrequency(b: number): number {
  if (b === 0x20) return 20;
  const c = String.fromCharCode(b);
  if (b >= 0x61 && b <= 0x7a) return c === 'e' ? 12 : 'taoinsr'.includes(c) ? 9 : 'hldcumpfg'.includes(c) ? 7 : 5;
  if ((b >= 0x30 && b <= 0x39) || c === ':') return 9; // timestamps on every line
  if ('-./'.includes(c)) return 6;
  if ('_=,'.includes(c)) return 4;
  return 2; // capitals, other punctuation, control bytes, UTF-8 above ASCII
}

/** English's most common letter pairs, which log text is full of. */
const COMMON_PAIRS = new Set('th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur'.split(' '));

function pairFrequency(a: number, b: number): number {
  return byteFrequency(a) * byteFrequency(b) * (COMMON_PAIRS.has(String.fromCharCode(a, b)) ? 3 : 1);
}

/**
 * The offset of the keyword's WINDOW-byte stretch whose pairs are least common: each pair of the log
 * found in a window costs a check, and each whole window a comparison. A pair some window already
 * holds (in the table) adds few checks, so it weighs SHARED_PAIR of its frequency.
 */
export function rarestWindow(word: Buffer, table: Uint8Array): number {
  let best = 0;
  let bestCost = Infinity;
  for (let o = 0; o + WINDOW <= word.length; o++) {
    let cost = 0;
    for (let j = 1; j < WINDOW; j++) {
      const pair = (word[o + j - 1]! << 8) | word[o + j]!;
      cost += pairFrequency(word[o + j - 1]!, word[o + j]!) * (table[pair] === 0 ? 1 : SHARED_PAIR);
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = o;
    }
  }
  return best;
}
