import { describe, expect, it } from 'vitest';
import { parseExposition, type Sample } from '../src/adapters/metrics/exposition.js';
import {
  bucketQuantile,
  countAbove,
  counterDelta,
  diffBuckets,
  histogramBuckets,
  matches,
  parseMatchers,
  sumSamples,
  type Bucket,
} from '../src/adapters/metrics/series.js';

const INF = Infinity;
const b = (le: number, count: number): Bucket => ({ le, count });

describe('parseMatchers', () => {
  it('parses a selector body with every operator', () => {
    expect(parseMatchers('code=~"5..",service="gateway",route!="/health",method!~"GET|HEAD"')).toEqual([
      { label: 'code', op: '=~', value: '5..' },
      { label: 'service', op: '=', value: 'gateway' },
      { label: 'route', op: '!=', value: '/health' },
      { label: 'method', op: '!~', value: 'GET|HEAD' },
    ]);
  });

  it('accepts braces, blanks, a trailing comma and all PromQL string quotes', () => {
    expect(parseMatchers(' { code =~ \'5..\' ,\tservice = `gate\\way` , } ')).toEqual([
      { label: 'code', op: '=~', value: '5..' },
      { label: 'service', op: '=', value: 'gate\\way' },
    ]);
  });

  it('decodes Go string escapes in quoted values', () => {
    expect(parseMatchers(String.raw`a="x\"y\\z\n", b='it\'s', c="\x41\u00e9\101"`)).toEqual([
      { label: 'a', op: '=', value: 'x"y\\z\n' },
      { label: 'b', op: '=', value: "it's" },
      { label: 'c', op: '=', value: 'AéA' },
    ]);
  });

  it('returns no matchers for an empty selector', () => {
    expect(parseMatchers('')).toEqual([]);
    expect(parseMatchers('  {}  ')).toEqual([]);
  });

  it.each([
    ['code=5', /column 6: expected a quoted value, found "5"/],
    ['code~"5"', /column 5: expected one of =, !=, =~, !~ after label "code", found "~"/],
    ['{code="5"', /column 10: missing '}'/],
    ['code="5"}', /column 9: expected ',' between matchers, found "}"/],
    ['code="5" service="x"', /column 10: expected ',' between matchers, found "s"/],
    ['code="5', /column 6: unterminated string/],
    ['5xx="5"', /column 1: expected a label name, found "5"/],
    ['a="1",,b="2"', /column 7: expected a label name, found ","/],
    ['code=~"5(("', /column 5: invalid regular expression "5\(\(" for label "code"/],
    ['code=~"a)|(b"', /invalid regular expression "a\)\|\(b"/],
    [String.raw`a="\q"`, /unknown escape sequence \\q/],
  ])('rejects %s', (text, message) => {
    expect(() => parseMatchers(text)).toThrow(message);
  });
});

describe('matches', () => {
  const labels = { code: '500', service: 'gateway', route: '/orders' };

  it('compares = and != exactly', () => {
    expect(matches(labels, parseMatchers('service="gateway"'))).toBe(true);
    expect(matches(labels, parseMatchers('service="gate"'))).toBe(false);
    expect(matches(labels, parseMatchers('service!="signals"'))).toBe(true);
    expect(matches(labels, parseMatchers('service!="gateway"'))).toBe(false);
  });

  it('anchors regexes at both ends like PromQL', () => {
    expect(matches(labels, parseMatchers('code=~"5.."'))).toBe(true);
    expect(matches({ code: '5000' }, parseMatchers('code=~"5.."'))).toBe(false);
    expect(matches({ code: 'x500' }, parseMatchers('code=~"5.."'))).toBe(false);
    expect(matches(labels, parseMatchers('code=~"4..|5.."'))).toBe(true);
    expect(matches(labels, parseMatchers('code=~"0"'))).toBe(false);
    expect(matches(labels, parseMatchers('code!~"5.."'))).toBe(false);
    expect(matches(labels, parseMatchers('code!~"2.."'))).toBe(true);
    expect(matches({ code: '5000' }, parseMatchers('code!~"5.."'))).toBe(true);
  });

  it('lets . match a newline and honours a leading (?i), as Prometheus does', () => {
    expect(matches({ msg: 'a\nb' }, parseMatchers('msg=~"a.b"'))).toBe(true);
    expect(matches({ service: 'GateWay' }, parseMatchers('service=~"(?i)gateway"'))).toBe(true);
    expect(matches({ service: 'GateWay' }, parseMatchers('service=~"gateway"'))).toBe(false);
  });

  it('treats a missing label as the empty string', () => {
    expect(matches(labels, parseMatchers('env=""'))).toBe(true);
    expect(matches(labels, parseMatchers('env!=""'))).toBe(false);
    expect(matches(labels, parseMatchers('env=~".*"'))).toBe(true);
    expect(matches(labels, parseMatchers('env=~".+"'))).toBe(false);
    expect(matches(labels, parseMatchers('env!~"prod"'))).toBe(true);
    // A label named like an Object.prototype member is missing too, not a function.
    expect(matches(labels, parseMatchers('constructor=""'))).toBe(true);
  });

  it('requires every matcher, and matches everything with none', () => {
    expect(matches(labels, parseMatchers('code=~"5..",service="gateway"'))).toBe(true);
    expect(matches(labels, parseMatchers('code=~"5..",service="signals"'))).toBe(false);
    expect(matches(labels, [])).toBe(true);
  });

  it('accepts hand-built matchers, compiling their regexes on first use', () => {
    expect(matches(labels, [{ label: 'route', op: '=~', value: '/ord.*' }])).toBe(true);
    expect(matches(labels, [{ label: 'route', op: '=~', value: '/ord.*' }])).toBe(true);
    expect(matches(labels, [{ label: 'route', op: '!~', value: '/ord.*' }])).toBe(false);
  });
});

const PAYLOAD = `# TYPE http_requests_total counter
http_requests_total{service="gateway",code="200"} 90
http_requests_total{service="gateway",code="500"} 4
http_requests_total{service="gateway",code="503"} 1
http_requests_total{service="signals",code="200"} 50
http_requests_total{service="signals",code="500"} 0
# TYPE rpc_seconds histogram
rpc_seconds_bucket{service="gateway",route="/orders",le="0.1"} 30
rpc_seconds_bucket{service="gateway",route="/orders",le="0.5"} 50
rpc_seconds_bucket{service="gateway",route="/orders",le="1"} 55
rpc_seconds_bucket{service="gateway",route="/orders",le="+Inf"} 55
rpc_seconds_sum{service="gateway",route="/orders"} 9
rpc_seconds_count{service="gateway",route="/orders"} 55
rpc_seconds_bucket{service="gateway",route="/quotes",le="0.1"} 20
rpc_seconds_bucket{service="gateway",route="/quotes",le="0.5"} 40
rpc_seconds_bucket{service="gateway",route="/quotes",le="1"} 45
rpc_seconds_bucket{service="gateway",route="/quotes",le="+Inf"} 45
rpc_seconds_sum{service="gateway",route="/quotes"} 7
rpc_seconds_count{service="gateway",route="/quotes"} 45
rpc_seconds_bucket{service="signals",route="/signals",le="0.1"} 7
rpc_seconds_bucket{service="signals",route="/signals",le="0.5"} 8
rpc_seconds_bucket{service="signals",route="/signals",le="1"} 9
rpc_seconds_bucket{service="signals",route="/signals",le="+Inf"} 10
rpc_seconds_sum{service="signals",route="/signals"} 3
rpc_seconds_count{service="signals",route="/signals"} 10
rpc_seconds_bucket{service="signals",route="/bad"} 99
`;
const samples = parseExposition(PAYLOAD).samples;

describe('sumSamples', () => {
  it('sums the matching series', () => {
    expect(sumSamples(samples, 'http_requests_total')).toBe(145);
    expect(sumSamples(samples, 'http_requests_total', parseMatchers('service="gateway",code=~"5.."'))).toBe(5);
  });

  it('returns 0 when series matched but are zero, and undefined when none matched', () => {
    expect(sumSamples(samples, 'http_requests_total', parseMatchers('service="signals",code=~"5.."'))).toBe(0);
    expect(sumSamples(samples, 'http_requests_total', parseMatchers('service="orchestrator"'))).toBeUndefined();
    expect(sumSamples(samples, 'no_such_metric')).toBeUndefined();
    expect(sumSamples([], 'http_requests_total')).toBeUndefined();
  });
});

describe('histogramBuckets', () => {
  it('sums every matching label set per bound, +Inf last', () => {
    expect(histogramBuckets(samples, 'rpc_seconds', parseMatchers('service="gateway"'))).toEqual([
      b(0.1, 50),
      b(0.5, 90),
      b(1, 100),
      b(INF, 100),
    ]);
    expect(histogramBuckets(samples, 'rpc_seconds')).toEqual([b(0.1, 57), b(0.5, 98), b(1, 109), b(INF, 110)]);
  });

  it('sorts bounds numerically whatever the input order and merges equal bounds', () => {
    const shuffled: Sample[] = [
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 4 },
      { name: 'h_bucket', labels: { le: '10' }, value: 3 },
      { name: 'h_bucket', labels: { le: '2' }, value: 1 },
      { name: 'h_bucket', labels: { le: '2.0' }, value: 1 },
      { name: 'h_bucket', labels: { le: 'not-a-number' }, value: 100 },
      { name: 'h_bucket', labels: { le: '' }, value: 100 },
    ];
    expect(histogramBuckets(shuffled, 'h')).toEqual([b(2, 2), b(10, 3), b(INF, 4)]);
  });

  it('returns undefined when nothing matched', () => {
    expect(histogramBuckets(samples, 'rpc_seconds', parseMatchers('service="orchestrator"'))).toBeUndefined();
    expect(histogramBuckets(samples, 'http_requests_total')).toBeUndefined();
  });
});

describe('bucketQuantile', () => {
  const buckets = [b(0.1, 50), b(0.5, 90), b(1, 100), b(INF, 100)];

  it('interpolates linearly inside the bucket holding the rank', () => {
    // rank 50 = all of the first bucket, which starts at 0: 0 + 0.1 * 50/50.
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(0.1, 12);
    // rank 95 is 5 of the 10 in (0.5, 1]: 0.5 + 0.5 * 5/10.
    expect(bucketQuantile(0.95, buckets)).toBeCloseTo(0.75, 12);
    // rank 99 is 9 of the 10 in (0.5, 1]: 0.5 + 0.5 * 9/10.
    expect(bucketQuantile(0.99, buckets)).toBeCloseTo(0.95, 12);
    // rank 25 of 50 in [0, 0.1].
    expect(bucketQuantile(0.25, buckets)).toBeCloseTo(0.05, 12);
    // rank 70 is 20 of the 40 in (0.1, 0.5]: 0.1 + 0.4 * 20/40.
    expect(bucketQuantile(0.7, buckets)).toBeCloseTo(0.3, 12);
    expect(bucketQuantile(1, buckets)).toBeCloseTo(1, 12);
  });

  it('returns the highest finite bound when the rank falls into the +Inf bucket', () => {
    const slow = [b(0.1, 50), b(0.5, 90), b(1, 95), b(INF, 100)];
    expect(bucketQuantile(0.99, slow)).toBe(1);
    expect(bucketQuantile(0.96, slow)).toBe(1);
    expect(bucketQuantile(0.95, slow)).toBeCloseTo(1, 12);
  });

  it('follows Prometheus for the degenerate cases', () => {
    expect(bucketQuantile(0.5, [b(0.1, 0), b(1, 0), b(INF, 0)])).toBeUndefined();
    expect(bucketQuantile(0.5, [b(0.1, 5), b(1, 10)])).toBeUndefined();
    expect(bucketQuantile(0.5, [b(INF, 10)])).toBeUndefined();
    expect(bucketQuantile(0.5, [])).toBeUndefined();
    expect(bucketQuantile(NaN, buckets)).toBeUndefined();
    expect(bucketQuantile(-0.1, buckets)).toBe(-Infinity);
    expect(bucketQuantile(1.1, buckets)).toBe(Infinity);
    // q = 0 over an empty first bucket is 0/0 in Prometheus too.
    expect(bucketQuantile(0, [b(0.1, 0), b(1, 10), b(INF, 10)])).toBeUndefined();
    expect(bucketQuantile(0, buckets)).toBe(0);
    // A lowest bound at or below zero is returned as is rather than interpolated from 0.
    expect(bucketQuantile(0.1, [b(-1, 5), b(0, 8), b(INF, 10)])).toBe(-1);
  });

  it('sorts, merges equal bounds and forces monotonic counts without touching the input', () => {
    const messy = [b(INF, 100), b(1, 100), b(0.5, 40), b(0.1, 50), b(0.5, 50)];
    const copy = messy.map((x) => ({ ...x }));
    // Merged: 0.1:50, 0.5:90, 1:100, +Inf:100, same as above.
    expect(bucketQuantile(0.95, messy)).toBeCloseTo(0.75, 12);
    expect(messy).toEqual(copy);
    // 0.5 dips below 0.1 and is raised to 50, so rank 60 lands in (0.5, 1]: 0.5 + 0.5 * 10/50.
    expect(bucketQuantile(0.6, [b(0.1, 50), b(0.5, 30), b(1, 100), b(INF, 100)])).toBeCloseTo(0.6, 12);
  });

  it('gives the p95 of the aggregated demo histogram', () => {
    const gateway = histogramBuckets(samples, 'rpc_seconds', parseMatchers('service="gateway"')) ?? [];
    expect(bucketQuantile(0.95, gateway)).toBeCloseTo(0.75, 12);
  });
});

describe('diffBuckets', () => {
  const before = [b(0.1, 10), b(1, 18), b(INF, 20)];

  it('subtracts per bound', () => {
    expect(diffBuckets([b(0.1, 15), b(1, 30), b(INF, 33)], before)).toEqual([b(0.1, 5), b(1, 12), b(INF, 13)]);
    expect(diffBuckets(before, before)).toEqual([b(0.1, 0), b(1, 0), b(INF, 0)]);
  });

  it('returns now unchanged after a counter reset or without a baseline', () => {
    const afterRestart = [b(0.1, 3), b(1, 19), b(INF, 25)];
    expect(diffBuckets(afterRestart, before)).toEqual(afterRestart);
    expect(diffBuckets(afterRestart, undefined)).toEqual(afterRestart);
    // New bucket layout means a new process too.
    const relayout = [b(0.1, 12), b(0.5, 15), b(1, 19), b(INF, 25)];
    expect(diffBuckets(relayout, before)).toEqual(relayout);
  });
});

describe('counterDelta', () => {
  it('is the increase, or the whole value after a reset', () => {
    expect(counterDelta(10, 4)).toBe(6);
    expect(counterDelta(4, 4)).toBe(0);
    expect(counterDelta(3, 10)).toBe(3);
    expect(counterDelta(0, 10)).toBe(0);
    expect(counterDelta(7, undefined)).toBe(7);
  });
});

describe('countAbove', () => {
  const buckets = [b(0.1, 50), b(0.5, 90), b(1, 100), b(INF, 104)];

  it('counts requests above the smallest bound at or over the threshold', () => {
    expect(countAbove(buckets, 0.5)).toEqual({ above: 14, total: 104 });
    expect(countAbove(buckets, 0.3)).toEqual({ above: 14, total: 104 });
    expect(countAbove(buckets, 0.05)).toEqual({ above: 54, total: 104 });
    expect(countAbove(buckets, 0)).toEqual({ above: 54, total: 104 });
    expect(countAbove(buckets, 1)).toEqual({ above: 4, total: 104 });
  });

  it('counts nothing past the last finite bound, and copes with no buckets', () => {
    expect(countAbove(buckets, 2)).toEqual({ above: 0, total: 104 });
    expect(countAbove([], 0.5)).toEqual({ above: 0, total: 0 });
  });
});
