// Reconciliation arithmetic: an unreadable quantity is unknown for its symbol, never 0 and never dropped.
import { describe, expect, it } from 'vitest';
import { comparePositions, readQuantity } from '../src/core/positions.js';

describe('readQuantity', () => {
  it('reads numbers and decimal strings, and nothing else', () => {
    expect([10, -5, 0, '10', ' -5.5 ', '1e3', '.5'].map(readQuantity)).toEqual([10, -5, 0, 10, -5.5, 1000, 0.5]);
    // Number() would turn null, '' and ' ' into 0, and true into 1.
    for (const bad of [null, undefined, '', ' ', 'n/a', '10 shares', true, Number.NaN, Infinity, {}, []]) expect(readQuantity(bad), JSON.stringify(bad)).toBeUndefined();
  });
});

describe('comparePositions', () => {
  const broker = [
    { symbol: 'AAPL', qty: 10 },
    { symbol: 'MSFT', qty: -5 },
  ];

  it('is clean when every symbol matches within the tolerance, string quantities included', () => {
    const c = comparePositions([{ symbol: 'AAPL', qty: '10' }, { symbol: 'MSFT', qty: -5 }], broker, 0);
    expect(c.state).toBe('clean');
    expect(c.rows.map((r) => [r.symbol, r.state, r.diff])).toEqual([['AAPL', 'match', 0], ['MSFT', 'match', 0]]);
  });

  it.each([
    ['null', null, 'platform reports qty null'],
    ['missing', undefined, 'platform reports no qty'],
    ['not a number', 'n/a', 'platform reports qty "n/a"'],
    ['empty', '', 'platform reports qty ""'],
  ])('a %s platform quantity makes its symbol and the reconciliation unknown, not a flat position', (_what, qty, reason) => {
    const platform = [{ symbol: 'AAPL', qty: 10 }, qty === undefined ? { symbol: 'MSFT' } : { symbol: 'MSFT', qty }];
    const c = comparePositions(platform as { symbol: string; qty: unknown }[], broker, 0);
    expect(c.state).toBe('unknown');
    expect(c.unknown).toEqual([{ symbol: 'MSFT', platform: null, broker: -5, diff: null, state: 'unknown', reason }]);
    expect(c.rows.find((r) => r.symbol === 'AAPL')?.state).toBe('match');
  });

  it('an unreadable broker quantity is unknown too, even when the platform has no such symbol (never "both flat")', () => {
    const c = comparePositions([{ symbol: 'AAPL', qty: 10 }], [{ symbol: 'AAPL', qty: 10 }, { symbol: 'TSLA', qty: null }], 0);
    expect(c.state).toBe('unknown');
    expect(c.unknown).toEqual([{ symbol: 'TSLA', platform: 0, broker: null, diff: null, state: 'unknown', reason: 'broker reports qty null' }]);
  });

  it('unknown wins over drift, and both are listed', () => {
    const c = comparePositions([{ symbol: 'AAPL', qty: 7 }, { symbol: 'MSFT', qty: null }], broker, 0);
    expect(c.state).toBe('unknown');
    expect(c.drift.map((r) => [r.symbol, r.diff])).toEqual([['AAPL', -3]]);
    expect(c.unknown.map((r) => r.symbol)).toEqual(['MSFT']);
  });

  it('one unreadable row of a symbol reported twice makes the symbol unknown, not the sum of the rest', () => {
    const c = comparePositions([{ symbol: 'AAPL', qty: 10 }, { symbol: 'AAPL', qty: 'pending' }, { symbol: 'MSFT', qty: -5 }], broker, 0);
    expect(c.unknown).toEqual([expect.objectContaining({ symbol: 'AAPL', platform: null, reason: 'platform reports qty "pending"' })]);
  });

  it('a row without a symbol cannot be matched and is unknown', () => {
    const c = comparePositions([...broker, { symbol: null, qty: 3 }], broker, 0);
    expect(c.state).toBe('unknown');
    expect(c.unknown).toEqual([expect.objectContaining({ symbol: '?', reason: 'platform reports a position without a symbol (qty 3)' })]);
  });

  it('drift beyond the tolerance is drift; within it is clean', () => {
    expect(comparePositions([{ symbol: 'AAPL', qty: 9 }, { symbol: 'MSFT', qty: -5 }], broker, 0).state).toBe('drift');
    expect(comparePositions([{ symbol: 'AAPL', qty: 9 }, { symbol: 'MSFT', qty: -5 }], broker, 1).state).toBe('clean');
  });
});
