// The control room dashboard: log in with a token, then environments, safety controls, approvals
// the running soaks and monitors, incidents with their timelines and the audit log, kept current by the API's event stream (no reloads).
import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, login, logout } from './api.js';
import { Approvals, Environments } from './panels.js';
import { Safety } from './safety.js';
import { Audit, Incidents } from './incidents.js';
import { Watches } from './watches.js';
import './style.css';

function Login({ onLogin }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await login(token.trim());
      onLogin({ name: r.name, role: r.role });
    } catch (err) {
      setError(`${err.status}: ${err.message}`);
    }
  };
  return html`<form class="login" onSubmit=${submit}>
    <h1>shipgate control room</h1>
    <label>API token <input name="token" type="password" autocomplete="off" value=${token} onInput=${(e) => setToken(e.target.value)} placeholder="sgt_…" /></label>
    <button type="submit">Log in</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <p class="hint">Create a token with <code>shipgate token create --name NAME --role viewer</code>.</p>
  </form>`;
}

/** Counts audit events and readings per watch from /api/events; panels refetch when their counter moves. */
function useLive(enabled) {
  const [live, setLive] = useState({ audit: 0, readings: {}, connected: false });
  useEffect(() => {
    if (!enabled) return undefined;
    const es = new EventSource('/api/events');
    es.addEventListener('ready', () => setLive((l) => ({ ...l, connected: true })));
    es.addEventListener('audit', () => setLive((l) => ({ ...l, audit: l.audit + 1 })));
    es.addEventListener('reading', (e) => {
      const r = JSON.parse(e.data);
      setLive((l) => ({ ...l, readings: { ...l.readings, [r.watchId]: (l.readings[r.watchId] ?? 0) + 1 } }));
    });
    es.onerror = () => setLive((l) => ({ ...l, connected: false }));
    return () => es.close();
  }, [enabled]);
  return live;
}

function App() {
  const [me, setMe] = useState(undefined);
  useEffect(() => {
    get('/api/me').then((m) => setMe(m), () => setMe(null));
  }, []);
  const live = useLive(Boolean(me));
  if (me === undefined) return html`<p>Loading…</p>`;
  if (me === null) return html`<${Login} onLogin=${setMe} />`;
  const out = async () => {
    await logout();
    setMe(null);
  };
  return html`<header>
      <h1>shipgate control room</h1>
      <span class="who">${me.name} (<span id="role">${me.role}</span>)</span>
      <span class=${live.connected ? 'live on' : 'live off'}>${live.connected ? 'live' : 'reconnecting…'}</span>
      <button onClick=${out}>Log out</button>
    </header>
    <main>
      <${Environments} tick=${live.audit} />
      <${Safety} tick=${live.audit} />
      <${Approvals} tick=${live.audit} />
      <${Watches} tick=${live.audit} readings=${live.readings} />
      <${Incidents} tick=${live.audit} />
      <${Audit} tick=${live.audit} />
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
