// Approvals that prove who gave them: real ed25519 keys made by ssh-keygen, an allowed-signers
// file in the format git uses, and `shipgate approve` run as a user would. A typed name is refused
// by default; a signature by the requester's own key, by an unknown key, over another request or
// in another namespace is refused; an allowed signer's signature counts once, under their name.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimApproval, requestApproval, requireApproval, returnApproval } from '../src/app/approvals.js';
import { createContext } from '../src/app/context.js';
import { loadConfig } from '../src/config/load.js';
import { shipgate } from './harness/cli.js';

let dir: string;
const keys: Record<string, string> = {};

const config = (approvals: string) =>
  `version: 1\nproject: options-desk\napprovals: ${approvals}\nservices:\n  pricer: { command: ["true"] }\nenvironments:\n  risk-desk: {}\n`;

function makeKey(name: string): string {
  const file = path.join(dir, 'keys', name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return file;
}

/** Opens a request as `requester`, the way breaker reset or an emergency promotion would. */
async function openRequest(requester: string, kind: 'standard' | 'emergency' = 'emergency'): Promise<number> {
  const ctx = await createContext(loadConfig(undefined, dir), { env: { ...process.env, SHIPGATE_ACTOR: requester } });
  try {
    const a = await requestApproval(ctx, { env: 'risk-desk', action: 'breaker-reset-force', subject: 'cb:state', kind, reason: 'false alarm on the drawdown feed' });
    return a.id;
  } finally {
    await ctx.store.close();
  }
}

const run = (args: string[], actor = 'tester') => shipgate(args, { cwd: dir, env: { SHIPGATE_ACTOR: actor } });

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-approvals-'));
  execFileSync('mkdir', ['-p', path.join(dir, 'keys')]);
  for (const name of ['tester', 'alice', 'bob', 'carol', 'mallory']) keys[name] = makeKey(name);
  const line = (name: string) => `${name} namespaces="shipgate-approval" ${readFileSync(`${keys[name]}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}`;
  // mallory's key is not an allowed signer.
  writeFileSync(path.join(dir, 'allowed_signers'), ['tester', 'alice', 'bob', 'carol'].map(line).join('\n') + '\n');
  writeFileSync(path.join(dir, 'shipgate.yml'), config('{ allowedSigners: ./allowed_signers }'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('approvals with SSH signatures (default identity: signature)', () => {
  it('refuses a bare --by, the requester\'s own key and unknown keys; accepts allowed signers once each, under their principal', async () => {
    const id = await openRequest('tester');

    // Finding 6: alice typing --by bob is no longer bob's approval.
    const typed = await run(['approve', String(id), '--by', 'bob']);
    expect(typed.code).toBe(3);
    expect(typed.stderr).toMatch(/must prove who gives it: --by bob alone proves nothing/);
    expect(typed.stderr).toContain('--sign-with');

    expect((await run(['sign-request', String(id), '--sign-with', keys.tester!], 'tester')).code).toBe(0);
    const own = await run(['approve', String(id), '--sign-with', keys.tester!]);
    expect(own.code).toBe(3);
    expect(own.stderr).toMatch(/tester requested #\d+ and cannot approve it/);

    const stranger = await run(['approve', String(id), '--sign-with', keys.mallory!]);
    expect(stranger.code).toBe(3);
    expect(stranger.stderr).toMatch(/not in the allowed-signers file/);

    // Run by tester's shell, but signed with bob's key: the approval is bob's, and says who ran it.
    const bob = await run(['approve', String(id), '--sign-with', keys.bob!, '--json']);
    expect(bob.code, bob.stderr).toBe(0);
    const grant = bob.json().approval;
    expect(grant).toMatchObject({ state: 'pending', approvers: [{ by: 'bob', identity: { method: 'ssh-signature', principal: 'bob', fingerprint: expect.stringMatching(/^SHA256:/) } }] });
    expect((await run(['approve', String(id), '--sign-with', keys.bob!])).code).toBe(3);
    const mismatch = await run(['approve', String(id), '--sign-with', keys.carol!, '--by', 'dave']);
    expect(mismatch.code).toBe(2);

    // carol signs offline: the text from --print-request, signed with ssh-keygen in the shipgate-approval namespace.
    const text = await run(['approve', String(id), '--print-request']);
    expect(text.code, text.stderr).toBe(0);
    expect(JSON.parse(text.stdout)).toMatchObject({ type: 'shipgate-approval', id, env: 'risk-desk', action: 'breaker-reset-force', requester: 'tester' });
    const sign = (body: string, namespace: string) => {
      const file = path.join(dir, `req-${namespace}-${Math.random().toString(36).slice(2)}.txt`);
      writeFileSync(file, body);
      execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', keys.carol!, '-n', namespace, file], { stdio: 'ignore' });
      return `${file}.sig`;
    };
    const otherRequest = await run(['approve', String(id), '--signature', sign(text.stdout.replace('false alarm', 'anything'), 'shipgate-approval')]);
    expect(otherRequest.code).toBe(3);
    expect(otherRequest.stderr).toMatch(/does not verify for carol/);
    expect((await run(['approve', String(id), '--signature', sign(text.stdout, 'git')])).code).toBe(3);

    const carol = await run(['approve', String(id), '--signature', sign(text.stdout, 'shipgate-approval'), '--json'], 'carol-laptop');
    expect(carol.code, carol.stderr).toBe(0);
    expect(carol.json().approval).toMatchObject({ state: 'approved', approvers: [{ by: 'bob' }, { by: 'carol', identity: { method: 'ssh-signature' } }] });

    const grants = (await run(['audit', '--json'])).json().events.filter((e: any) => e.action === 'approval.grant');
    expect(grants.map((e: any) => [e.actor, e.detail.ranBy, e.detail.identity.method])).toEqual([
      ['bob', 'tester', 'ssh-signature'],
      ['carol', 'carol-laptop', 'ssh-signature'],
    ]);
    expect((await run(['audit', '--verify'])).code).toBe(0);
  });

  it('proves the requester too: an unsigned request cannot be approved, and the requester\'s key cannot approve whatever name they claimed', async () => {
    // alice opens the request under a name that is not hers; the name alone would let her approve it with her own key.
    const id = await openRequest('dave', 'standard');
    const early = await run(['approve', String(id), '--sign-with', keys.alice!], 'alice');
    expect(early.code).toBe(3);
    expect(early.stderr).toMatch(new RegExp(`request #${id} was opened by dave, a name nobody has proven: its requester must sign it`));
    expect(early.stderr).toContain(`shipgate sign-request ${id} --sign-with`);
    expect((await run(['approve', String(id), '--sign-with', keys.bob!], 'bob')).code).toBe(3);
    expect((await run(['approvals', '--json'])).json().approvals.find((a: any) => a.id === id)).toMatchObject({ state: 'pending', approvers: [] });

    // Signing the request proves who asked: a key outside the allowed signers proves nothing.
    expect((await run(['sign-request', String(id), '--sign-with', keys.mallory!], 'alice')).code).toBe(3);
    const signed = await run(['sign-request', String(id), '--sign-with', keys.alice!, '--json'], 'alice');
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.json().approval).toMatchObject({ requester: 'dave', requesterIdentity: { method: 'ssh-signature', principal: 'alice', fingerprint: expect.stringMatching(/^SHA256:/) } });
    const again = await run(['sign-request', String(id), '--sign-with', keys.bob!], 'bob');
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already signed by its requester alice/);

    const own = await run(['approve', String(id), '--sign-with', keys.alice!], 'dave');
    expect(own.code).toBe(3);
    expect(own.stderr).toMatch(new RegExp(`alice requested #${id} and cannot approve it`));
    // The requester's signature is over a text of its own type: it is no approval of the same request.
    const requestText = await run(['sign-request', String(id), '--print-request']);
    expect(JSON.parse(requestText.stdout)).toMatchObject({ type: 'shipgate-approval-request', id });
    const file = path.join(dir, `requester-${id}.txt`);
    writeFileSync(file, requestText.stdout);
    execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', keys.carol!, '-n', 'shipgate-approval', file], { stdio: 'ignore' });
    const replayed = await run(['approve', String(id), '--signature', `${file}.sig`], 'carol');
    expect(replayed.code).toBe(3);
    expect(replayed.stderr).toMatch(/does not verify for carol/);

    const unknown = await run(['approve', String(id), '--sign-with', keys.mallory!], 'mallory');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/not in the allowed-signers file/);

    const bob = await run(['approve', String(id), '--sign-with', keys.bob!, '--json'], 'alice');
    expect(bob.code, bob.stderr).toBe(0);
    expect(bob.json().approval).toMatchObject({ state: 'approved', approvers: [{ by: 'bob', identity: { method: 'ssh-signature', principal: 'bob' } }] });
    const events = (await run(['audit', '--json'])).json().events.filter((e: any) => e.detail?.approvalId === id);
    expect(events.map((e: any) => [e.action, e.actor])).toEqual([
      ['approval.request', 'dave'],
      ['approval.request-signed', 'alice'],
      ['approval.grant', 'bob'],
    ]);
    expect((await run(['audit', '--verify'])).code).toBe(0);
  });

  it('says what to set when no allowed-signers file is configured', async () => {
    writeFileSync(path.join(dir, 'shipgate.yml'), config('{ expiry: 1h }'));
    try {
      const id = await openRequest('tester', 'standard');
      const res = await run(['approve', String(id), '--sign-with', keys.bob!]);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/approvals\.allowedSigners is not set/);
    } finally {
      writeFileSync(path.join(dir, 'shipgate.yml'), config('{ allowedSigners: ./allowed_signers }'));
    }
  });
});

describe('approvals.identity: trust-local', () => {
  it('takes --by NAME, records it as trust-local with who ran it, and still refuses the requester', async () => {
    writeFileSync(path.join(dir, 'shipgate.yml'), config('{ identity: trust-local }'));
    try {
      const id = await openRequest('alice', 'standard');
      expect((await run(['approve', String(id), '--by', 'alice'])).code).toBe(3);
      const res = await run(['approve', String(id), '--by', 'bob', '--json'], 'alice');
      expect(res.code, res.stderr).toBe(0);
      expect(res.json().approval).toMatchObject({ state: 'approved', requesterIdentity: { method: 'trust-local', principal: 'alice' }, approvers: [{ by: 'bob', identity: { method: 'trust-local', principal: 'bob', ranBy: 'alice' } }] });
    } finally {
      writeFileSync(path.join(dir, 'shipgate.yml'), config('{ allowedSigners: ./allowed_signers }'));
    }
  });
});

describe('one approval, two runs at once', () => {
  it('exactly one run claims it: the other is refused before acting; one given back can be claimed once more', async () => {
    writeFileSync(path.join(dir, 'shipgate.yml'), config('{ identity: trust-local }'));
    const need = { env: 'risk-desk', action: 'killswitch-off', subject: 'ks:state', kind: 'standard' as const, reason: 'reconciled' };
    // Two runs, each with its own connection to the store, as two `shipgate killswitch off` would.
    const runs = await Promise.all(['alice', 'carol'].map((actor) => createContext(loadConfig(undefined, dir), { env: { ...process.env, SHIPGATE_ACTOR: actor } })));
    try {
      const request = await requestApproval(runs[0]!, need);
      expect((await run(['approve', String(request.id), '--by', 'bob'])).code).toBe(0);
      // Both find it approved, then both try to use it at the same moment.
      const found = await Promise.all(runs.map((ctx) => requireApproval(ctx, need)));
      expect(found.map((a) => [a.id, a.state])).toEqual([[request.id, 'approved'], [request.id, 'approved']]);
      const acted: string[] = [];
      const outcomes = await Promise.allSettled(runs.map(async (ctx, i) => {
        await claimApproval(ctx, found[i]!);
        acted.push(ctx.actor);
      }));
      expect(acted).toHaveLength(1);
      const loser = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
      expect(loser.reason.message).toMatch(new RegExp(`approval #${request.id} for killswitch-off of ks:state in risk-desk was just used by another run`));
      expect(loser.reason.exitCode).toBe(3);
      const uses = (await runs[0]!.store.listAudit({ action: 'approval.use' })).filter((e) => (e.detail as { approvalId?: number }).approvalId === request.id);
      expect(uses).toHaveLength(1);

      // The winner could not act after all: it gives the approval back, and one run may use it again.
      const winner = runs.find((ctx) => ctx.actor === acted[0])!;
      await returnApproval(winner, found[0]!, 'production is locked');
      expect(await winner.store.getApproval(request.id)).toMatchObject({ state: 'approved' });
      expect((await Promise.allSettled(runs.map((ctx, i) => claimApproval(ctx, found[i]!)))).filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    } finally {
      for (const ctx of runs) await ctx.store.close();
      writeFileSync(path.join(dir, 'shipgate.yml'), config('{ allowedSigners: ./allowed_signers }'));
    }
  });
});
