// What the Prometheus text exposition parser returns, and how it reports bad input.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

export interface ParseResult {
  /** Keyed by family name: the name in `# TYPE`/`# HELP`, else the sample's own name. */
  families: Map<string, MetricFamily>;
  /** Every sample in payload order; the same objects as in `families`. */
  samples: Sample[];
  /** Names of the families and samples skipped because they were not wanted (see `only`); empty unless asked for. */
  skipped: Set<string>;
}

export class ExpositionParseError extends Error {
  /** 1-based line of the offending text. */
  line: number;
  /** 1-based column (UTF-16 code units) of the offending character. */
  column: number;
  /** The message without the position prefix, for callers that print the position themselves. */
  readonly reason: string;

  constructor(reason: string, line: number, column: number) {
    super(`invalid metrics exposition at line ${line}, column ${column}: ${reason}`);
    this.name = 'ExpositionParseError';
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
