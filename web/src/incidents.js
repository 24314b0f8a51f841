// Incidents with their timelines (GET /api/incidents, /api/incidents/:id) and the audit log with
// filters by environment and action (GET /api/audit); both refetch when the event stream moves.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { useData } from './panels.js';

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

function Timeline({ id, tick }) {
  const { data, error } = useData(`/api/incidents/${id}`, tick);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!data) return html`<p>…</p>`;
  return html`<ol class="timeline">${data.incident.timeline.map((e) => html`<li data-action=${e.action}>
    <time>${when(e.at)}</time> <b>${e.action}</b> ${e.version ?? ''} · ${e.outcome} · ${e.actor}${e.reason ? `: ${e.reason}` : ''}
  </li>`)}</ol>`;
}

export function Incidents({ tick }) {
  const { data, error } = useData('/api/incidents?limit=10', tick);
  return html`<section id="incidents"><h2>Incidents</h2>${error && html`<p class="error" role="alert">${error}</p>`}
    ${data && (data.incidents.length === 0 ? html`<p>No incidents.</p>` : data.incidents.map((i) => {
      const rb = i.data.rollback;
      return html`<article class="incident" data-incident=${i.id} data-env=${i.env} data-state=${i.state}>
        <h3>incident #${i.id} · ${i.env} · ${i.state} · opened ${when(i.openedAt)}: ${i.data.title}</h3>
        <p>Release ${i.data.version}${rb ? html` · <span class=${rb.ok ? 'ok rollback' : 'bad rollback'}>${rb.ok ? `rolled back to ${rb.version}` : `rollback to ${rb.version} FAILED: ${rb.error ?? ''}`}</span>` : ' · not rolled back'} · trigger <b>${i.data.trigger.check}</b>: ${i.data.trigger.reason}</p>
        <${Timeline} id=${i.id} tick=${tick} />
      </article>`;
    }))}
  </section>`;
}

export function Audit({ tick }) {
  const envs = (useData('/api/environments', 0).data?.environments ?? []).map((e) => e.env);
  const [env, setEnv] = useState('');
  // What is typed (kept across the live re-renders) and what is applied (on Enter or leaving the field).
  const [draft, setDraft] = useState('');
  const [action, setAction] = useState('');
  const q = new URLSearchParams({ limit: '50' });
  if (env) q.set('env', env);
  if (action.trim()) q.set('action', action.trim());
  const { data, error } = useData(`/api/audit?${q}`, tick);
  // Newest first: the API returns them in sequence order.
  const events = data ? [...data.events].reverse() : [];
  return html`<section id="audit"><h2>Audit log</h2>
    <div class="filters">
      <label>environment <select name="env" value=${env} onChange=${(e) => setEnv(e.target.value)}>
        <option value="">all</option>${envs.map((e) => html`<option value=${e}>${e}</option>`)}
      </select></label>
      <label>action <input name="action" placeholder="e.g. incident.open" value=${draft} onInput=${(e) => setDraft(e.target.value)} onChange=${(e) => setAction(e.target.value)} /></label>
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${data && (events.length === 0 ? html`<p>No audit events match.</p>` : html`<table><thead><tr><th>#</th><th>time</th><th>environment</th><th>actor</th><th>action</th><th>version</th><th>outcome</th><th>reason</th></tr></thead>
      <tbody>${events.map((e) => html`<tr data-seq=${e.seq} data-env=${e.env ?? ''} data-action=${e.action}>
        <td>${e.seq}</td><td>${when(e.at)}</td><td>${e.env ?? '—'}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.version ?? ''}</td><td>${e.outcome}</td><td>${e.reason ?? ''}</td>
      </tr>`)}</tbody></table>`)}
  </section>`;
}
