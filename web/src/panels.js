// Environments (versions, deployment, lock, window) and the approvals queue with an approve
// control; the breaker and kill switch are in safety.js.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, post } from './api.js';

/**
 * GETs `path` again whenever `tick` moves; errors are shown, never taken for "nothing". One request
 * at a time: ticks that come while one is in flight ask for one more after it, so a busy event stream
 * cannot starve a slow endpoint by cancelling each request before it answers. Data of another path
 * (a filter just changed) is never shown for this one.
 */
export function useData(path, tick) {
  const [state, setState] = useState({ path: null, data: null, error: null });
  const run = useRef({ inflight: false, again: false, path, alive: true });
  useEffect(() => () => (run.current.alive = false), []);
  useEffect(() => {
    const r = run.current;
    r.path = path;
    if (r.inflight) {
      r.again = true;
      return;
    }
    const once = () => {
      r.inflight = true;
      r.again = false;
      const p = r.path;
      const mine = () => r.alive && r.path === p;
      get(p)
        .then((data) => mine() && setState({ path: p, data, error: null }), (err) => mine() && setState((s) => ({ path: p, data: s.path === p ? s.data : null, error: `${err.status ?? 'no answer'}: ${err.message}` })))
        .finally(() => {
          r.inflight = false;
          if (r.alive && r.again) once();
        });
    };
    once();
  }, [path, tick]);
  return state.path === path ? state : { data: null, error: null };
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const Err = ({ error }) => error && html`<p class="error" role="alert">${error}</p>`;

function WindowCell({ env, tick }) {
  const { data, error } = useData(`/api/window?env=${encodeURIComponent(env)}`, tick);
  if (error) return html`<td class="error">${error}</td>`;
  if (!data) return html`<td>…</td>`;
  return html`<td class=${data.open ? 'ok' : 'bad'}>${data.open ? 'open' : 'closed'}: ${data.reason}${!data.open && data.nextOpen ? html`<br />next open ${when(data.nextOpen)}` : ''}</td>`;
}

export function Environments({ tick }) {
  const { data, error } = useData('/api/environments', tick);
  return html`<section id="environments"><h2>Environments</h2><${Err} error=${error} />
    ${data && html`<table><thead><tr><th>environment</th><th>current</th><th>previous good</th><th>deployment</th><th>lock</th><th>window</th></tr></thead>
      <tbody>${data.environments.map((e) => html`<tr data-env=${e.env}>
        <td><b>${e.env}</b></td><td class="version">${e.currentVersion ?? '—'}</td><td>${e.previousGoodVersion ?? '—'}</td>
        <td>${e.deployment ? html`#${e.deployment.id} ${e.deployment.kind} ${e.deployment.version}: ${e.deployment.state}${e.deployment.lastStep ? ` (${e.deployment.lastStep})` : ''}` : '—'}</td>
        <td>${e.lock ? `${e.lock.actor}: ${e.lock.reason}${e.lock.stale ? ' (stale)' : ''}` : 'free'}</td>
        <${WindowCell} env=${e.env} tick=${tick} />
      </tr>`)}</tbody></table>`}
  </section>`;
}

export function Approvals({ tick }) {
  const [own, setOwn] = useState(0);
  const { data, error } = useData('/api/approvals', tick + own);
  const [result, setResult] = useState(null);
  const approve = async (id) => {
    setResult(null);
    try {
      await post(`/api/approvals/${id}/approve`);
      setResult({ ok: true, text: `approval #${id} approved` });
    } catch (err) {
      setResult({ ok: false, text: `${err.status}: ${err.message}` });
    }
    setOwn((n) => n + 1);
  };
  return html`<section id="approvals"><h2>Approvals</h2><${Err} error=${error} />
    ${result && html`<p class=${result.ok ? 'ok' : 'error'} role="status">${result.text}</p>`}
    ${data && (data.approvals.length === 0 ? html`<p>No pending approvals.</p>` : html`<table><thead><tr><th>#</th><th>environment</th><th>for</th><th>requested by</th><th>reason</th><th>approvals</th><th>expires</th><th></th></tr></thead>
      <tbody>${data.approvals.map((a) => html`<tr data-approval=${a.id}>
        <td>${a.id}</td><td>${a.env}</td><td>${a.action}</td><td>${a.requester}</td><td>${a.reason}</td>
        <td>${a.approvers.length}/${a.required}${a.approvers.length ? ` (${a.approvers.map((x) => x.by).join(', ')})` : ''}</td><td>${when(a.expiresAt)}</td>
        <td>${a.state === 'pending' ? html`<button class="approve" onClick=${() => approve(a.id)}>Approve</button>` : a.state}</td>
      </tr>`)}</tbody></table>`)}
  </section>`;
}
