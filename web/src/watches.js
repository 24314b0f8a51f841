// The running (and most recent) soaks and monitors, a chart per check; a watch's series is fetched
// again whenever the event stream brings one of its readings.
import { html } from 'htm/preact';
import { CheckChart } from './chart.js';
import { useData } from './panels.js';

const minutes = (ms) => (ms > 0 ? `${Math.ceil(ms / 60_000)} min left` : 'time is up');

function WatchCharts({ id, tick }) {
  const { data, error } = useData(`/api/watches/${id}/series`, tick);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!data) return html`<p>…</p>`;
  if (data.checks.length === 0) return html`<p>No readings yet.</p>`;
  return html`<div class="charts">${data.checks.map((c) => html`<${CheckChart} key=${c.name} watchId=${id} check=${c} />`)}</div>`;
}

function Watch({ w, kind, readings, tick }) {
  const head = kind === 'soak'
    ? `soak #${w.id} · ${w.env} ${w.version} · ${w.state} · verdict so far: ${w.verdict} · ${minutes(w.remainingMs)}`
    : `monitor #${w.id} · ${w.env} ${w.version} · ${w.state} · phase ${w.phase} · ${w.status}${w.rollback ? ` · ${w.rollback.ok ? 'rolled back' : 'rollback FAILED'} to ${w.rollback.version}` : ''}${w.incidentId ? ` · incident #${w.incidentId}` : ''}`;
  return html`<article class="watch" data-watch=${w.id} data-kind=${kind}>
    <h3>${head}</h3>
    <${WatchCharts} id=${w.id} tick=${tick + (readings[w.id] ?? 0)} />
  </article>`;
}

export function Watches({ tick, readings }) {
  const soaks = useData('/api/soaks?limit=3', tick);
  const monitors = useData('/api/monitors?limit=3', tick);
  const list = [...(soaks.data?.soaks ?? []).map((w) => ['soak', w]), ...(monitors.data?.monitors ?? []).map((w) => ['monitor', w])];
  // Running first, then the most recent.
  list.sort((a, b) => Number(b[1].state === 'running') - Number(a[1].state === 'running') || b[1].id - a[1].id);
  return html`<section id="watches"><h2>Soaks and monitors</h2>
    ${soaks.error && html`<p class="error" role="alert">${soaks.error}</p>`}${monitors.error && html`<p class="error" role="alert">${monitors.error}</p>`}
    ${list.length === 0 && soaks.data && monitors.data ? html`<p>No soak or monitor yet.</p>` : list.map(([kind, w]) => html`<${Watch} key=${`${kind}${w.id}`} w=${w} kind=${kind} readings=${readings} tick=${tick} />`)}
  </section>`;
}
