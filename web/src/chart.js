// One uPlot chart per check: the measured value, its threshold and its baseline over time;
// points whose verdict is inconclusive or error are drawn as shaded bands behind the lines. Under it,
// for checks with a sequential test (rate checks), a small chart of the test's log-likelihood ratio
// (Page's CUSUM, never below 0: regression when it reaches the upper bound) and its unclamped Wald
// sum (healthy when it reaches the lower bound, then it starts again); both charts share the cursor.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';

const SHADE = { inconclusive: 'rgba(240, 180, 0, 0.18)', error: 'rgba(220, 40, 40, 0.18)', fail: 'rgba(220, 40, 40, 0.10)' };

export function seriesData(points) {
  const xs = [];
  const value = [];
  const threshold = [];
  const baseline = [];
  for (const p of points) {
    xs.push(Date.parse(p.at) / 1000);
    value.push(p.value);
    threshold.push(p.threshold);
    baseline.push(p.baseline);
  }
  return [xs, value, threshold, baseline];
}

export function sprtData(points) {
  const xs = [];
  const statistic = [];
  const upper = [];
  const lower = [];
  const wald = [];
  for (const p of points) {
    xs.push(Date.parse(p.at) / 1000);
    statistic.push(p.statistic);
    upper.push(p.upper);
    lower.push(p.lower);
    wald.push(p.wald ?? null);
  }
  return [xs, statistic, upper, lower, wald];
}

/** Draws the verdict bands (inconclusive, error, fail) under the series. */
function shadePlugin(getPoints) {
  return {
    hooks: {
      drawClear: (u) => {
        const points = getPoints();
        const xs = u.data[0];
        const { ctx } = u;
        ctx.save();
        for (let i = 0; i < points.length; i++) {
          const fill = SHADE[points[i].verdict];
          if (!fill) continue;
          const x0 = u.valToPos(xs[i], 'x', true);
          const x1 = u.valToPos(i + 1 < xs.length ? xs[i + 1] : xs[i] + 1, 'x', true);
          ctx.fillStyle = fill;
          ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height);
        }
        ctx.restore();
      },
    },
  };
}

export function CheckChart({ watchId, check }) {
  if (check.points.every((p) => p.value === null)) return html`<${VerdictStrip} watchId=${watchId} check=${check} />`;
  return html`<${LineChart} watchId=${watchId} check=${check} />`;
}

/** A check without a measured value (a health or status check): its verdicts in a row, newest last. */
function VerdictStrip({ watchId, check }) {
  const last = check.points.at(-1);
  return html`<figure class="chart strip" data-watch=${watchId} data-check=${check.name} data-points=${check.points.length}>
    <figcaption><b>${check.name}</b> · ${check.points.length} readings${last ? html` · last ${last.verdict}: ${last.reason}` : ''}</figcaption>
    <div class="verdicts">${check.points.slice(-120).map((p) => html`<span class=${`v ${p.verdict}`} title=${`${p.at} ${p.verdict}: ${p.reason}`}></span>`)}</div>
  </figure>`;
}

function LineChart({ watchId, check }) {
  const el = useRef(null);
  const plot = useRef(null);
  const points = useRef(check.points);
  points.current = check.points;

  useEffect(() => {
    const opts = {
      width: Math.min(640, el.current.clientWidth || 640),
      height: 220,
      plugins: [shadePlugin(() => points.current)],
      cursor: { sync: { key: `${watchId}/${check.name}` } },
      scales: { x: { time: true } },
      series: [
        {},
        { label: 'value', stroke: '#1f6feb', width: 2, spanGaps: false },
        { label: 'threshold', stroke: '#d1242f', dash: [6, 4], width: 1.5 },
        { label: 'baseline', stroke: '#2da44e', dash: [2, 3], width: 1.5 },
      ],
    };
    plot.current = new uPlot(opts, seriesData(check.points), el.current);
    return () => plot.current.destroy();
  }, []);

  useEffect(() => {
    plot.current?.setData(seriesData(check.points));
  }, [check.points]);

  const last = check.points.at(-1);
  return html`<figure class="chart" data-watch=${watchId} data-check=${check.name} data-points=${check.points.length}>
    <figcaption><b>${check.name}</b> · ${check.points.length} readings${last ? html` · last ${last.verdict}: ${last.reason}` : ''}</figcaption>
    <div ref=${el}></div>
    ${check.points.some((p) => p.statistic !== null) && html`<${SprtChart} watchId=${watchId} check=${check} />`}
  </figure>`;
}

function SprtChart({ watchId, check }) {
  const el = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const opts = {
      width: Math.min(640, el.current.clientWidth || 640),
      height: 130,
      cursor: { sync: { key: `${watchId}/${check.name}` } },
      scales: { x: { time: true } },
      series: [
        {},
        { label: 'log-likelihood ratio', stroke: '#8250df', width: 2, spanGaps: false },
        { label: 'upper bound (regression)', stroke: '#d1242f', dash: [6, 4], width: 1.5 },
        { label: 'lower bound (healthy)', stroke: '#2da44e', dash: [2, 3], width: 1.5 },
        { label: 'Wald sum', stroke: '#bf8700', width: 1, spanGaps: false },
      ],
    };
    plot.current = new uPlot(opts, sprtData(check.points), el.current);
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData(sprtData(check.points));
  }, [check.points]);
  const withStatistic = check.points.filter((p) => p.statistic !== null);
  const last = withStatistic.at(-1);
  return html`<div class="sprt" data-statistics=${withStatistic.length}>
    <div class="sprt-caption">sequential test${last ? `: log-likelihood ratio ${last.statistic.toFixed(2)}, regression at ≥ ${last.upper?.toFixed(2) ?? '?'}` : ''}</div>
    <div ref=${el}></div>
  </div>`;
}
