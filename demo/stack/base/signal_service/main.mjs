// Emits trading signals. Output is pseudo-random but reproducible: the n-th
// call after start-up always returns the same signals for a given SIGNAL_SEED.
import { createService, run } from '../lib/service.mjs';

const UNIVERSE = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'AMD', 'JPM', 'XOM', 'COST', 'AVGO'];
const seedFromEnv = Number.parseInt(process.env.SIGNAL_SEED ?? '', 10);
const baseSeed = Number.isFinite(seedFromEnv) ? seedFromEnv : 42;
let generation = 0;

// mulberry32: tiny, good-enough PRNG that is stable across Node versions.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generateSignals(seed) {
  const rand = prng(seed);
  const pool = [...UNIVERSE];
  const count = 3 + Math.floor(rand() * 4);
  const signals = [];
  for (let i = 0; i < count; i++) {
    const [symbol] = pool.splice(Math.floor(rand() * pool.length), 1);
    const side = rand() < 0.5 ? 'buy' : 'sell';
    const strength = Math.max(0.05, Math.round(rand() * 100) / 100);
    signals.push({ symbol, side, strength });
  }
  return signals;
}

const service = createService({
  name: 'signal_service',
  defaultPort: 8001,
  routes: [
    {
      method: 'GET',
      path: '/signals',
      handler: () => {
        const seed = baseSeed + generation++;
        return { body: { seed, generatedAt: new Date().toISOString(), signals: generateSignals(seed) } };
      },
    },
  ],
});

run(service);
