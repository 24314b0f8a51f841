// Parser for the Prometheus text exposition format, version 0.0.4.
//
// Hand-written because the npm parser drops labelled histograms, which are exactly what the
// soak gates read. It runs every second for every watched service, so it is one pass over
// the payload with no regex and no split into line strings: native indexOf finds line ends
// and closing quotes, charCode scanning does the rest, and the metric name and label names,
// which repeat from one sample to the next, are reused rather than sliced again.
//
// The parts: exposition-parser.ts (the pass), exposition-chars.ts (characters and scanning),
// exposition-numbers.ts (values and timestamps), exposition-types.ts (results and errors).

import { Parser } from './exposition-parser.js';
import type { ParseResult } from './exposition-types.js';

export { ExpositionParseError, type MetricFamily, type MetricType, type ParseResult, type Sample } from './exposition-types.js';

/**
 * `only`: the metric names wanted (a histogram's as `<name>` or `<name>_bucket`). Other samples and
 * their HELP/TYPE lines are skipped after their name is read: a scrape for three checks reads a
 * few series out of hundreds (the controller reads 200 payloads a second), and lines that are no
 * evidence do not fail it. Without `only`, everything is parsed and checked. `keepSkipped`: also
 * return the names skipped (`config check --live` suggests the closest to a misspelt metric).
 */
export function parseExposition(text: string, only?: ReadonlySet<string>, keepSkipped = false): ParseResult {
  return new Parser(text, only, keepSkipped).run();
}
