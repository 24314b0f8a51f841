import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExpositionParseError, parseExposition, type MetricFamily, type Sample } from '../src/adapters/metrics/exposition.js';
import { scaled } from './harness/pace.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function family(text: string, name: string): MetricFamily {
  const found = parseExposition(text).families.get(name);
  if (found === undefined) throw new Error(`no family ${name}`);
  return found;
}

function parseError(text: string): ExpositionParseError {
  try {
    parseExposition(text);
  } catch (err) {
    if (err instanceof ExpositionParseError) return err;
    throw err;
  }
  throw new Error('expected an ExpositionParseError');
}

describe('parseExposition', () => {
  it('reads HELP, TYPE and a plain counter', () => {
    const result = parseExposition(
      ['# HELP jobs_done Jobs finished.', '# TYPE jobs_done counter', 'jobs_done 17', 'jobs_done{queue="slow"} 2'].join('\n') + '\n',
    );
    expect([...result.families.keys()]).toEqual(['jobs_done']);
    expect(result.families.get('jobs_done')).toEqual({
      name: 'jobs_done',
      type: 'counter',
      help: 'Jobs finished.',
      samples: [
        { name: 'jobs_done', labels: {}, value: 17 },
        { name: 'jobs_done', labels: { queue: 'slow' }, value: 2 },
      ],
    });
    expect(result.samples).toEqual(result.families.get('jobs_done')?.samples);
    // Same objects, not copies: callers may index either view.
    expect(result.samples[0]).toBe(result.families.get('jobs_done')?.samples[0]);
  });

  it('keeps every label set of a labelled histogram', () => {
    const text = `# HELP rpc_seconds RPC latency.
# TYPE rpc_seconds histogram
rpc_seconds_bucket{service="gateway",le="0.1"} 3
rpc_seconds_bucket{service="gateway",le="1"} 5
rpc_seconds_bucket{service="gateway",le="+Inf"} 6
rpc_seconds_sum{service="gateway"} 4.25
rpc_seconds_count{service="gateway"} 6
rpc_seconds_created{service="gateway"} 1700000000
rpc_seconds_bucket{service="signals",le="0.1"} 10
rpc_seconds_bucket{service="signals",le="1"} 10
rpc_seconds_bucket{service="signals",le="+Inf"} 11
rpc_seconds_sum{service="signals"} 2.5
rpc_seconds_count{service="signals"} 11
`;
    const result = parseExposition(text);
    expect([...result.families.keys()]).toEqual(['rpc_seconds']);
    expect(result.families.get('rpc_seconds')).toEqual({
      name: 'rpc_seconds',
      type: 'histogram',
      help: 'RPC latency.',
      samples: [
        { name: 'rpc_seconds_bucket', labels: { service: 'gateway', le: '0.1' }, value: 3 },
        { name: 'rpc_seconds_bucket', labels: { service: 'gateway', le: '1' }, value: 5 },
        { name: 'rpc_seconds_bucket', labels: { service: 'gateway', le: '+Inf' }, value: 6 },
        { name: 'rpc_seconds_sum', labels: { service: 'gateway' }, value: 4.25 },
        { name: 'rpc_seconds_count', labels: { service: 'gateway' }, value: 6 },
        { name: 'rpc_seconds_created', labels: { service: 'gateway' }, value: 1700000000 },
        { name: 'rpc_seconds_bucket', labels: { service: 'signals', le: '0.1' }, value: 10 },
        { name: 'rpc_seconds_bucket', labels: { service: 'signals', le: '1' }, value: 10 },
        { name: 'rpc_seconds_bucket', labels: { service: 'signals', le: '+Inf' }, value: 11 },
        { name: 'rpc_seconds_sum', labels: { service: 'signals' }, value: 2.5 },
        { name: 'rpc_seconds_count', labels: { service: 'signals' }, value: 11 },
      ],
    });
    expect(result.samples).toHaveLength(11);
  });

  it('groups a summary with its quantiles, sum and count', () => {
    const text = `# TYPE order_latency summary
order_latency{venue="xnas",quantile="0.5"} 0.012
order_latency{venue="xnas",quantile="0.99"} 0.2
order_latency_sum{venue="xnas"} 8.5
order_latency_count{venue="xnas"} 420
`;
    expect(family(text, 'order_latency')).toEqual({
      name: 'order_latency',
      type: 'summary',
      samples: [
        { name: 'order_latency', labels: { venue: 'xnas', quantile: '0.5' }, value: 0.012 },
        { name: 'order_latency', labels: { venue: 'xnas', quantile: '0.99' }, value: 0.2 },
        { name: 'order_latency_sum', labels: { venue: 'xnas' }, value: 8.5 },
        { name: 'order_latency_count', labels: { venue: 'xnas' }, value: 420 },
      ],
    });
  });

  it('attaches OpenMetrics-style _total and _created samples to a counter declared without the suffix', () => {
    const text = '# TYPE orders counter\norders_total{side="buy"} 5\norders_created{side="buy"} 1.7e9\n';
    const result = parseExposition(text);
    expect([...result.families.keys()]).toEqual(['orders']);
    expect(result.families.get('orders')).toEqual({
      name: 'orders',
      type: 'counter',
      samples: [
        { name: 'orders_total', labels: { side: 'buy' }, value: 5 },
        { name: 'orders_created', labels: { side: 'buy' }, value: 1.7e9 },
      ],
    });
  });

  it('puts samples without a TYPE into untyped families of their own name', () => {
    const text = 'queue_depth 3\nqueue_depth{queue="b"} 4\nother_bucket{le="1"} 1\n# TYPE declared untyped\ndeclared 9\n';
    const result = parseExposition(text);
    expect([...result.families.values()]).toEqual([
      {
        name: 'queue_depth',
        type: 'untyped',
        samples: [
          { name: 'queue_depth', labels: {}, value: 3 },
          { name: 'queue_depth', labels: { queue: 'b' }, value: 4 },
        ],
      },
      { name: 'other_bucket', type: 'untyped', samples: [{ name: 'other_bucket', labels: { le: '1' }, value: 1 }] },
      { name: 'declared', type: 'untyped', samples: [{ name: 'declared', labels: {}, value: 9 }] },
    ]);
  });

  it('only lets suffixes join a family whose type owns them', () => {
    const text = '# TYPE temp gauge\ntemp 21\ntemp_sum 5\n# TYPE hits counter\nhits_bucket{le="1"} 1\n# HELP lat only help\nlat_count 3\n';
    const result = parseExposition(text);
    expect([...result.families.keys()]).toEqual(['temp', 'temp_sum', 'hits', 'hits_bucket', 'lat', 'lat_count']);
    expect(result.families.get('temp_sum')).toEqual({ name: 'temp_sum', type: 'untyped', samples: [{ name: 'temp_sum', labels: {}, value: 5 }] });
    expect(result.families.get('hits')?.samples).toEqual([]);
    expect(result.families.get('lat')).toEqual({ name: 'lat', type: 'untyped', help: 'only help', samples: [] });
  });

  it('prefers an exactly declared family over a suffix match', () => {
    const text = '# TYPE x histogram\n# TYPE x_count gauge\nx_count 4\nx_sum 2\n';
    const result = parseExposition(text);
    expect(result.families.get('x_count')?.samples).toEqual([{ name: 'x_count', labels: {}, value: 4 }]);
    expect(result.families.get('x')?.samples).toEqual([{ name: 'x_sum', labels: {}, value: 2 }]);
  });

  it('lets a later declaration adopt samples that came before it', () => {
    const text = 'early 1\n# HELP early Now documented.\n# TYPE early gauge\nearly 2\n';
    expect(family(text, 'early')).toEqual({
      name: 'early',
      type: 'gauge',
      help: 'Now documented.',
      samples: [
        { name: 'early', labels: {}, value: 1 },
        { name: 'early', labels: {}, value: 2 },
      ],
    });
  });

  it('unescapes label values', () => {
    const text = String.raw`files{path="C:\\logs\\app",quote="say \"hi\"",multi="one\ntwo",odd="a\tb",empty=""} 1` + '\n';
    expect(parseExposition(text).samples).toEqual([
      {
        name: 'files',
        labels: { path: 'C:\\logs\\app', quote: 'say "hi"', multi: 'one\ntwo', odd: 'a\\tb', empty: '' },
        value: 1,
      },
    ]);
  });

  it('finds escaped and plain values correctly wherever backslashes sit in the payload', () => {
    const text = [
      String.raw`# HELP a Has a \\ backslash in its help.`,
      'a{x="plain",y="one"} 1',
      String.raw`a{x="p\"q",y="plain2"} 2`,
      'a{x="plain3",y="z"} 3',
      String.raw`a{x="end\\",y="w"} 4`,
      'a{x="",y="last"} 5',
    ].join('\n');
    expect(parseExposition(text).samples.map((s) => s.labels)).toEqual([
      { x: 'plain', y: 'one' },
      { x: 'p"q', y: 'plain2' },
      { x: 'plain3', y: 'z' },
      { x: 'end\\', y: 'w' },
      { x: '', y: 'last' },
    ]);
  });

  it('reuses names from the previous sample only when they really repeat', () => {
    const text = 'abc 1\nabcd 2\nab 3\nabc{le="1"} 4\nabc_d{level="2"} 5\nabc_d{l="3",le="4"} 6\nabc_d{} 7\n';
    expect(parseExposition(text).samples).toEqual([
      { name: 'abc', labels: {}, value: 1 },
      { name: 'abcd', labels: {}, value: 2 },
      { name: 'ab', labels: {}, value: 3 },
      { name: 'abc', labels: { le: '1' }, value: 4 },
      { name: 'abc_d', labels: { level: '2' }, value: 5 },
      { name: 'abc_d', labels: { l: '3', le: '4' }, value: 6 },
      { name: 'abc_d', labels: {}, value: 7 },
    ]);
  });

  it('keeps label values with braces, commas, equals and hashes as written', () => {
    const text = 'route_hits{route="/orders/{id}",query="a=1,b=2",frag="#top"} 7\n';
    expect(parseExposition(text).samples).toEqual([
      { name: 'route_hits', labels: { route: '/orders/{id}', query: 'a=1,b=2', frag: '#top' }, value: 7 },
    ]);
  });

  it('unescapes \\\\ and \\n in HELP but leaves \\" alone', () => {
    const text = String.raw`# HELP weird Line one\nline two, back\\slash, "quoted" and \"kept\".` + '\n# TYPE weird gauge\nweird 1\n';
    expect(family(text, 'weird').help).toBe('Line one\nline two, back\\slash, "quoted" and \\"kept\\".');
  });

  it('reads an empty HELP as an empty string', () => {
    expect(family('# HELP quiet\nquiet 1\n', 'quiet').help).toBe('');
  });

  it('parses special and floating-point values', () => {
    const text = [
      'v{k="nan"} NaN',
      'v{k="pinf"} +Inf',
      'v{k="ninf"} -Inf',
      'v{k="inf"} Inf',
      'v{k="exp"} 1.5e-3',
      'v{k="EXP"} 2E+2',
      'v{k="int"} 42',
      'v{k="neg"} -7',
      'v{k="plus"} +3',
      'v{k="frac"} .5',
      'v{k="trail"} 1.',
      'v{k="big"} 12345678901234567890',
      'v{k="negzero"} -0',
      'v{k="zero"} 0',
    ].join('\n');
    const values = Object.fromEntries(parseExposition(text).samples.map((s) => [s.labels.k, s.value]));
    expect(values).toEqual({
      nan: NaN,
      pinf: Infinity,
      ninf: -Infinity,
      inf: Infinity,
      exp: 0.0015,
      EXP: 200,
      int: 42,
      neg: -7,
      plus: 3,
      frac: 0.5,
      trail: 1,
      big: 12345678901234567890,
      negzero: -0,
      zero: 0,
    });
    expect(Object.is(values.negzero, -0)).toBe(true);
    expect(Object.is(values.zero, 0)).toBe(true);
  });

  it('reads integer millisecond timestamps, negative ones included', () => {
    const text = 'up 1 1700000000123\nup{zone="b"} 0 -1500\nup{zone="c"} 1\t\t1700000000000   \n';
    expect(parseExposition(text).samples).toEqual([
      { name: 'up', labels: {}, value: 1, timestampMs: 1700000000123 },
      { name: 'up', labels: { zone: 'b' }, value: 0, timestampMs: -1500 },
      { name: 'up', labels: { zone: 'c' }, value: 1, timestampMs: 1700000000000 },
    ]);
    expect('timestampMs' in (parseExposition('up 1').samples[0] as Sample)).toBe(false);
  });

  it('handles CRLF line endings', () => {
    const text = '# HELP up Is it up.\r\n# TYPE up gauge\r\nup{zone="a"} 1\r\nup{zone="b"} 0 1700000000000\r\n\r\n';
    expect(family(text, 'up')).toEqual({
      name: 'up',
      type: 'gauge',
      help: 'Is it up.',
      samples: [
        { name: 'up', labels: { zone: 'a' }, value: 1 },
        { name: 'up', labels: { zone: 'b' }, value: 0, timestampMs: 1700000000000 },
      ],
    });
  });

  it('parses the last line without a trailing newline', () => {
    expect(parseExposition('a 1\nb{x="y"} 2').samples).toEqual([
      { name: 'a', labels: {}, value: 1 },
      { name: 'b', labels: { x: 'y' }, value: 2 },
    ]);
    expect(parseExposition('a 1\r').samples).toEqual([{ name: 'a', labels: {}, value: 1 }]);
  });

  it('accepts a trailing comma, an empty label set and blanks between tokens', () => {
    const text = [
      'm{a="1",b="2",} 1',
      'm{} 2',
      'm { a = "3" , } 3',
      '\t m{\ta="4"\t}\t4\t',
      'm{}5',
      'ns:rule_name:rate5m 6',
    ].join('\n');
    expect(parseExposition(text).samples).toEqual([
      { name: 'm', labels: { a: '1', b: '2' }, value: 1 },
      { name: 'm', labels: {}, value: 2 },
      { name: 'm', labels: { a: '3' }, value: 3 },
      { name: 'm', labels: { a: '4' }, value: 4 },
      { name: 'm', labels: {}, value: 5 },
      { name: 'ns:rule_name:rate5m', labels: {}, value: 6 },
    ]);
  });

  it('ignores blank lines and ordinary comments', () => {
    const text = '\n   \n# just a note\n#HELP not_help this is a comment\n# HELPER also a comment\n#\n# EOF\nx 1\n\t\n';
    const result = parseExposition(text);
    expect([...result.families.keys()]).toEqual(['x']);
    expect(result.samples).toEqual([{ name: 'x', labels: {}, value: 1 }]);
  });

  it('returns nothing for an empty payload', () => {
    const result = parseExposition('');
    expect(result.samples).toEqual([]);
    expect(result.families.size).toBe(0);
  });

  it('keeps labels named like Object.prototype members as own properties', () => {
    const sample = parseExposition('x{__proto__="p",constructor="c",toString="t"} 1').samples[0] as Sample;
    expect(Object.keys(sample.labels)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(sample.labels, '__proto__')?.value).toBe('p');
    expect(sample.labels.constructor).toBe('c');
  });

  it('does not share label objects between samples', () => {
    const [a, b] = parseExposition('x{k="v"} 1\nx{k="v"} 2\n').samples as [Sample, Sample];
    expect(a.labels).toEqual(b.labels);
    expect(a.labels).not.toBe(b.labels);
  });

  // Lines copied in the exact shape demo/stack/base/lib/metrics.mjs renders.
  it('parses what the demo services emit', () => {
    const text = `# HELP http_requests_total Total HTTP requests handled, by status code.
# TYPE http_requests_total counter
http_requests_total{service="execution_gateway",method="POST",route="/orders",code="201"} 40
http_requests_total{service="execution_gateway",method="POST",route="/orders",code="500"} 2
# HELP http_request_duration_seconds HTTP request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{service="execution_gateway",le="0.005"} 30
http_request_duration_seconds_bucket{service="execution_gateway",le="0.01"} 38
http_request_duration_seconds_bucket{service="execution_gateway",le="0.025"} 41
http_request_duration_seconds_bucket{service="execution_gateway",le="0.05"} 42
http_request_duration_seconds_bucket{service="execution_gateway",le="0.1"} 42
http_request_duration_seconds_bucket{service="execution_gateway",le="0.25"} 42
http_request_duration_seconds_bucket{service="execution_gateway",le="0.5"} 42
http_request_duration_seconds_bucket{service="execution_gateway",le="1"} 42
http_request_duration_seconds_bucket{service="execution_gateway",le="2.5"} 42
http_request_duration_seconds_bucket{service="execution_gateway",le="5"} 42
http_request_duration_seconds_bucket{service="execution_gateway",le="+Inf"} 42
http_request_duration_seconds_sum{service="execution_gateway"} 0.2134567
http_request_duration_seconds_count{service="execution_gateway"} 42
# HELP build_info Running version of the service; always 1.
# TYPE build_info gauge
build_info{service="execution_gateway",version="1.1.0"} 1
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1767225600.123
`;
    const result = parseExposition(text);
    expect([...result.families.keys()]).toEqual([
      'http_requests_total',
      'http_request_duration_seconds',
      'build_info',
      'process_start_time_seconds',
    ]);
    expect(result.families.get('http_requests_total')?.samples).toEqual([
      { name: 'http_requests_total', labels: { service: 'execution_gateway', method: 'POST', route: '/orders', code: '201' }, value: 40 },
      { name: 'http_requests_total', labels: { service: 'execution_gateway', method: 'POST', route: '/orders', code: '500' }, value: 2 },
    ]);
    const histogram = result.families.get('http_request_duration_seconds');
    expect(histogram?.type).toBe('histogram');
    expect(histogram?.samples.map((s) => s.labels.le ?? s.name)).toEqual([
      ...['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf'],
      'http_request_duration_seconds_sum',
      'http_request_duration_seconds_count',
    ]);
    expect(histogram?.samples.at(-2)).toEqual({ name: 'http_request_duration_seconds_sum', labels: { service: 'execution_gateway' }, value: 0.2134567 });
    expect(result.families.get('build_info')?.samples).toEqual([
      { name: 'build_info', labels: { service: 'execution_gateway', version: '1.1.0' }, value: 1 },
    ]);
    expect(result.families.get('process_start_time_seconds')?.samples).toEqual([
      { name: 'process_start_time_seconds', labels: {}, value: 1767225600.123 },
    ]);
  });

  describe('errors carry the 1-based line and column', () => {
    const cases: Array<[string, string, number, number, RegExp]> = [
      ['unterminated label value', 'ok 1\nx{code="500} 1\n', 2, 8, /unterminated value for label "code"/],
      ['backslash at the end of a label value', 'x{a="b\\', 1, 5, /unterminated value for label "a"/],
      ['unterminated value with a quote on a later line', 'x{a="b} 1\ny{c="d"} 2\n', 1, 5, /unterminated value for label "a"/],
      ['unterminated value with a backslash on a later line', 'x{a="b} 1\ny{c="\\n"} 2\n', 1, 5, /unterminated value for label "a"/],
      ['missing value', '# TYPE x gauge\nx{a="b"}\n', 2, 9, /missing value for x/],
      ['missing value after a bare name', 'x\n', 1, 2, /missing value for x/],
      ['invalid number', 'x 1.2.3\n', 1, 3, /invalid sample value "1.2.3"/],
      ['hex is not a Prometheus number', 'x 0x10\n', 1, 3, /invalid sample value "0x10"/],
      ['signed NaN', 'x -NaN\n', 1, 3, /invalid sample value "-NaN"/],
      ['fractional timestamp', 'x 1 1.5\n', 1, 5, /invalid timestamp "1.5"/],
      ['text after the timestamp', 'x 1 2 3\n', 1, 7, /unexpected "3" after the timestamp/],
      ['invalid character in a metric name', 'http-requests 1\n', 1, 5, /invalid character "-" in metric name/],
      ['metric name starting with a digit', '\n\n9lives 1\n', 3, 1, /expected a metric name, found "9"/],
      ['label name starting with a digit', 'x{1a="b"} 1', 1, 3, /expected a label name or '}', found "1"/],
      ['missing =', 'x{a "b"} 1', 1, 5, /expected '=' after label name "a"/],
      ['unquoted label value', 'x{a=b} 1', 1, 5, /expected '"' to open the value of label "a"/],
      ['missing comma between labels', 'x{a="1" b="2"} 1', 1, 9, /expected ',' or '}' after the value of label "a"/],
      ['a lone comma', 'x{,} 1', 1, 3, /expected a label name or '}', found ","/],
      ['unclosed label set', 'x{a="1" 1', 1, 9, /expected ',' or '}'/],
      ['label set cut off at end of line', 'x{a="1",\r\n', 1, 9, /missing '}' to close the labels opened at column 2/],
      ['duplicate label', 'x{a="1",a="2"} 1', 1, 9, /duplicate label "a"/],
      ['duplicate of a name the previous sample had elsewhere', 'x{a="1",b="2"} 1\nx{b="1",b="2"} 1', 2, 9, /duplicate label "b"/],
      ['duplicate past the previous sample\'s labels', 'x{a="1",b="2",c="3"} 1\nx{c="1",b="2"} 1\nx{c="1",b="2",c="3"} 1', 3, 15, /duplicate label "c"/],
      ['unknown metric type', '# TYPE x countr\n', 1, 10, /unknown metric type "countr"/],
      ['conflicting TYPE', '# TYPE x gauge\n# TYPE x counter\n', 2, 10, /conflicting # TYPE for x: already declared as gauge/],
      ['TYPE without a type', '# TYPE x\n', 1, 9, /missing metric type after # TYPE x/],
      ['HELP without a name', '# HELP \n', 1, 8, /missing metric name after # HELP/],
      ['stray text after a type', '# TYPE x gauge extra\n', 1, 16, /unexpected "e" after metric type/],
    ];
    it.each(cases)('%s', (_title, text, line, column, message) => {
      const err = parseError(text);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('ExpositionParseError');
      expect({ line: err.line, column: err.column }).toEqual({ line, column });
      expect(err.message).toMatch(message);
      expect(err.message).toContain(`line ${line}, column ${column}`);
    });

    it('counts CRLF lines and columns like LF ones', () => {
      const err = parseError('a 1\r\nb 2\r\nc{x="1"} nope\r\n');
      expect({ line: err.line, column: err.column, reason: err.reason }).toEqual({ line: 3, column: 10, reason: 'invalid sample value "nope"' });
    });

    it('accepts a repeated TYPE that agrees', () => {
      expect(family('# TYPE x gauge\n# TYPE x gauge\nx 1\n', 'x').samples).toHaveLength(1);
    });
  });
});

describe('parseExposition against a running demo service', () => {
  let child: ChildProcess | undefined;
  let url = '';
  let output = '';

  function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
  }

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [path.join(repoRoot, 'demo/stack/base/signal_service/main.mjs')], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + scaled(10_000);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`signal_service exited early:\n${output}`);
      try {
        if ((await fetch(`${url}/health`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`signal_service did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null || running.pid === undefined) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    process.kill(running.pid, 'SIGTERM');
    const timer = setTimeout(() => running.pid !== undefined && running.exitCode === null && process.kill(running.pid, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });

  it('parses its /metrics into consistent families', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/signals`)).status).toBe(200);
    expect((await fetch(`${url}/no-such-route`)).status).toBe(404);
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get('content-type')).toContain('version=0.0.4');
    const result = parseExposition(await res.text());

    expect([...result.families.keys()]).toEqual([
      'http_requests_total',
      'http_request_duration_seconds',
      'build_info',
      'process_start_time_seconds',
    ]);
    const requests = result.families.get('http_requests_total');
    expect(requests?.type).toBe('counter');
    expect(requests?.samples).toContainEqual({
      name: 'http_requests_total',
      labels: { service: 'signal_service', method: 'GET', route: '/signals', code: '200' },
      value: 3,
    });
    expect(requests?.samples).toContainEqual({
      name: 'http_requests_total',
      labels: { service: 'signal_service', method: 'GET', route: 'unmatched', code: '404' },
      value: 1,
    });

    const histogram = result.families.get('http_request_duration_seconds');
    expect(histogram?.type).toBe('histogram');
    // One histogram per route (so latency gates can leave health probes out).
    const allBuckets = histogram?.samples.filter((s) => s.name === 'http_request_duration_seconds_bucket') ?? [];
    const routes = [...new Set(allBuckets.map((s) => s.labels.route))];
    expect(routes.length).toBeGreaterThan(1);
    expect(allBuckets.every((s) => s.labels.service === 'signal_service')).toBe(true);
    let totalCount = 0;
    for (const route of routes) {
      const buckets = allBuckets.filter((s) => s.labels.route === route);
      expect(buckets.map((s) => s.labels.le)).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf']);
      const counts = buckets.map((s) => s.value);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      const count = histogram?.samples.find((s) => s.name === 'http_request_duration_seconds_count' && s.labels.route === route)?.value;
      expect(buckets.at(-1)?.value).toBe(count);
      totalCount += count ?? 0;
    }
    const totalRequests = (requests?.samples ?? []).reduce((sum, s) => sum + s.value, 0);
    expect(totalCount).toBe(totalRequests);
    expect(histogram?.samples.find((s) => s.name === 'http_request_duration_seconds_sum')?.value).toBeGreaterThan(0);

    expect(result.families.get('build_info')?.samples).toEqual([
      { name: 'build_info', labels: { service: 'signal_service', version: expect.any(String) }, value: 1 },
    ]);
    const started = result.families.get('process_start_time_seconds')?.samples[0]?.value ?? 0;
    expect(Math.abs(started - Date.now() / 1000)).toBeLessThan(120);
  });
});
