// Breaker and kill switch per environment, with guarded controls: trip; request a reset showing
// each precondition (GET /api/breaker/preconditions, the same check `breaker reset` makes), ask
// for its approval, approve, reset once someone else approved; engage and disengage the kill
// switch with a required reason and a confirm step. Every API refusal is shown where it happened.
import { html } from 'htm/preact';
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { post } from './api.js';
import { useData } from './panels.js';

const Err = ({ error }) => error && html`<p class="error" role="alert">${error}</p>`;
const failure = (err) => `${err.status ?? 'no answer'}: ${err.message}${err.hint ? ` (${err.hint})` : ''}`;
/** The platform's own word with its meaning beside it, as the CLI prints it: "TRIPPED (halted)". */
const word = (flag) => `${flag.value ?? 'absent'} (${flag.meaning})`;
const STATE = { met: ['met', 'ok'], unmet: ['NOT met', 'bad'], unknown: ['unknown: cannot be read, blocks the reset', 'bad'], 'not-configured': ['not configured', 'hint'] };

/** Runs `action` (an API call), keeps its outcome for display, and asks the panel to refetch. */
function useAction(refresh) {
  const [result, setResult] = useState(null);
  const run = async (action, ok) => {
    setResult(null);
    try {
      setResult({ ok: true, text: ok(await action()) });
    } catch (err) {
      setResult({ ok: false, text: failure(err) });
    }
    refresh();
  };
  return [result, run, setResult];
}

const Result = ({ result, cls }) => result && html`<p class=${`${result.ok ? 'ok' : 'error'} ${cls}`} role=${result.ok ? 'status' : 'alert'}>${result.text}</p>`;

function ResetPanel({ env, tick }) {
  const [own, setOwn] = useState(0);
  const { data, error } = useData(`/api/breaker/preconditions?env=${encodeURIComponent(env)}`, tick + own);
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [result, run, setResult] = useAction(() => setOwn((n) => n + 1));
  if (error) return html`<div class="reset" data-env=${env}><${Err} error=${error} /></div>`;
  if (!data) return html`<div class="reset" data-env=${env}>…</div>`;
  const a = data.approval;
  const ask = () => {
    if (!reason.trim()) return setResult({ ok: false, text: 'a reason is required to ask for the reset' });
    return run(() => post('/api/approvals', { env, for: 'breaker-reset', reason: reason.trim() }), (r) => `approval #${r.approval.id} requested: someone other than ${r.approval.requester} must approve it`);
  };
  const reset = () => {
    setConfirming(false);
    return run(() => post('/api/breaker/reset', { env, ...(reason.trim() ? { reason: reason.trim() } : {}) }), (r) => `breaker reset: now ${word(r.status.state.breaker)}`);
  };
  return html`<div class="reset" data-env=${env}>
    <h4>Reset the breaker of ${env}: ${word(data.status.state.breaker)}</h4>
    ${data.status.state.breaker.meaning === 'trading' ? html`<p class="ok">The breaker reads as trading: nothing to reset.</p>` : html`
      <ul class="preconditions">${data.preconditions.map((p) => html`<li data-name=${p.name} data-state=${p.state}>
        <b>${p.name}</b>: <span class=${STATE[p.state]?.[1] ?? 'bad'}>${STATE[p.state]?.[0] ?? `${p.state} (not understood: blocks the reset)`}</span> · ${p.detail}</li>`)}</ul>
      ${data.refusals.length ? html`<p class="error refusals" role="alert">A reset would be refused now: ${data.refusals.join('; ')}</p>` : html`<p class="ok">Nothing blocks the reset but its approval.</p>`}
      <p class="approval">${a ? html`Approval #${a.id} (${a.state}) requested by ${a.requester}: ${a.reason} · ${a.approvers.length}/${a.required}${a.approvers.length ? ` (${a.approvers.map((x) => x.by).join(', ')})` : ''}` : 'No approval requested yet.'}</p>
      <input class="reset-reason" name="reset-reason" placeholder="reason (required to ask)" value=${reason} onInput=${(e) => setReason(e.target.value)} />
      ${!a && html`<button class="request-reset" onClick=${ask}>Ask for approval</button>`}
      ${a?.state === 'pending' && html`<button class="approve-reset" onClick=${() => run(() => post(`/api/approvals/${a.id}/approve`), () => `approval #${a.id} approved`)}>Approve #${a.id}</button>`}
      ${a?.state === 'approved' && (confirming
        ? html`<span class="confirm">Reset the breaker of ${env} to trading? <button class="confirm-reset" onClick=${reset}>Yes, reset</button> <button class="cancel" onClick=${() => setConfirming(false)}>Cancel</button></span>`
        : html`<button class="do-reset" onClick=${() => setConfirming(true)}>Reset breaker…</button>`)}`}
    <${Result} result=${result} cls="reset-result" />
  </div>`;
}

function KillSwitchPanel({ env, safety, refresh }) {
  const engaged = safety.killswitch;
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [result, run, setResult] = useAction(refresh);
  const start = () => {
    if (!reason.trim()) return setResult({ ok: false, text: 'a reason is required' });
    return setConfirming(true);
  };
  const go = () => {
    setConfirming(false);
    if (engaged) return run(() => post('/api/killswitch/off', { env, reason: reason.trim() }), (r) => `kill switch ${r.alreadyOff ? 'was already off' : `off: now ${word(r.status.state.killSwitch)}`}; the breaker stays ${r.status.breaker} until its reset`);
    return run(() => post('/api/killswitch/on', { env, reason: reason.trim() }), (r) => `kill switch engaged: ${r.status ? word(r.status.state.killSwitch) : 'state unreadable'}; incident #${r.incidentId}${r.problem ? `; ${r.problem}` : ''}`);
  };
  const what = engaged ? 'Disengage' : 'Engage';
  return html`<div class="killswitch" data-env=${env}>
    <h4>Kill switch of ${env}: ${word(safety.state.killSwitch)}${safety.state.killSwitch.reason ? ` · ${safety.state.killSwitch.reason}` : ''}</h4>
    <input class="ks-reason" name="ks-reason" placeholder="reason (required)" value=${reason} onInput=${(e) => setReason(e.target.value)} />
    ${confirming
      ? html`<span class="confirm">${engaged ? `Turn the kill switch of ${env} off (needs an approval and a clean reconciliation)?` : `Halt trading in ${env}, trip its breaker and cancel every open order?`}
          <button class="ks-confirm" onClick=${go}>Yes, ${what.toLowerCase()}</button> <button class="cancel" onClick=${() => setConfirming(false)}>Cancel</button></span>`
      : html`<button class=${engaged ? 'ks-disengage' : 'ks-engage'} onClick=${start}>${what} kill switch…</button>`}
    <${Result} result=${result} cls="ks-result" />
  </div>`;
}

function SafetyRow({ env, tick }) {
  const [own, setOwn] = useState(0);
  const { data, error } = useData(`/api/safety?env=${encodeURIComponent(env)}`, tick + own);
  const [reason, setReason] = useState('');
  const [open, setOpen] = useState(null);
  const [result, run] = useAction(() => setOwn((n) => n + 1));
  const trip = () => run(() => post('/api/breaker/trip', { env, reason: reason || 'tripped from the control room' }), () => 'breaker tripped');
  const toggle = (what) => setOpen((o) => (o === what ? null : what));
  const s = data?.safety;
  return html`<${Fragment}><tr data-env=${env}>
    <td><b>${env}</b></td>
    ${error ? html`<td colspan="2" class="error">${error}</td>` : s ? html`<td class=${`breaker ${s.state.breaker.meaning === 'trading' ? 'ok' : 'bad'}`}>${s.breaker}${s.tripReason && s.state.breaker.meaning !== 'trading' ? `: ${s.tripReason}` : ''} (${s.state.breaker.meaning})</td><td class=${`ks ${s.state.killSwitch.meaning === 'trading' ? 'ok' : 'bad'}`}>${s.killswitch ? 'ENGAGED' : 'off'} (${s.state.killSwitch.meaning})${s.killswitch && s.state.killSwitch.reason ? `: ${s.state.killSwitch.reason}` : ''}</td>` : html`<td colspan="2">…</td>`}
    <td><input class="reason" placeholder="reason" value=${reason} onInput=${(e) => setReason(e.target.value)} />
      <button class="trip" onClick=${trip}>Trip breaker</button>
      <button class="open-reset" aria-expanded=${open === 'reset'} onClick=${() => toggle('reset')}>Request reset…</button>
      <button class="open-ks" aria-expanded=${open === 'ks'} onClick=${() => toggle('ks')}>Kill switch…</button>
      ${result && html`<span class=${result.ok ? 'ok result' : 'error result'} role="status">${result.text}</span>`}</td>
  </tr>
  ${open && html`<tr class="controls" data-controls=${env}><td colspan="4">
    ${open === 'reset' ? html`<${ResetPanel} env=${env} tick=${tick + own} />` : s ? html`<${KillSwitchPanel} env=${env} safety=${s} refresh=${() => setOwn((n) => n + 1)} />` : '…'}
  </td></tr>`}</${Fragment}>`;
}

export function Safety({ tick }) {
  const { data, error } = useData('/api/environments', 0);
  return html`<section id="safety"><h2>Breaker and kill switch</h2><${Err} error=${error} />
    ${data && html`<table><thead><tr><th>environment</th><th>breaker</th><th>kill switch</th><th>control</th></tr></thead>
      <tbody>${data.environments.map((e) => html`<${SafetyRow} key=${e.env} env=${e.env} tick=${tick} />`)}</tbody></table>`}
  </section>`;
}
