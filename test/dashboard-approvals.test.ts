// The dashboard's guarded controls in Debian's chromium (playwright-core), each user in their own
// browser context (own session cookie and CSRF token): a deployer trips the breaker from the page;
// alice asks for the reset (API) and her own approval is refused in the page; bob approves it.
// Screenshots go to test-results/dashboard/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type AppContext } from '../src/app/context.js';
import { createToken } from '../src/app/tokens.js';
import { configSchema } from '../src/config/schema.js';
import { startApiServer, type RunningApi } from '../src/server/start.js';
import { ROOT } from './harness/cli.js';

const CHROMIUM = process.env.SHIPGATE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'dashboard');

let dir: string;
let ctx: AppContext;
let api: RunningApi;
let browser: Browser;
const tokens: Record<'deployer' | 'alice' | 'bob', string> = { deployer: '', alice: '', bob: '' };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-dash-'));
  const config = configSchema.parse({ version: 1, project: 'dash-test', services: { web: { command: ['true'] } }, environments: { production: { trading: { keyPrefix: 'prod:' } }, staging: { trading: { keyPrefix: 'stg:' } } } });
  ctx = await createContext({ file: path.join(dir, 'shipgate.yml'), dir, config }, { env: { ...process.env, SHIPGATE_ACTOR: 'operator', SHIPGATE_DATABASE_URL: '' } });
  tokens.deployer = (await createToken(ctx, { name: 'dora', role: 'deployer' })).token;
  tokens.alice = (await createToken(ctx, { name: 'alice', role: 'approver' })).token;
  tokens.bob = (await createToken(ctx, { name: 'bob', role: 'approver' })).token;
  api = await startApiServer(ctx, { address: { host: '127.0.0.1', port: 0 }, version: 'test', eventPollMs: 100 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await ctx?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function loggedIn(token: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Waits are on conditions only: the test's timeout is the one bound.
  context.setDefaultTimeout(0);
  const page = await context.newPage();
  await page.goto(`${api.url}/`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('#role');
  expect(await page.textContent('header .who')).toContain(name);
  return page;
}

describe('the dashboard\'s guarded controls in Chromium', () => {
  it('a deployer trips the breaker; the requester\'s own approval is refused in the page; another approver\'s goes through', async () => {
    const dora = await loggedIn(tokens.deployer, 'dora');
    const prod = dora.locator('#safety tr[data-env=production]');
    await prod.locator('input.reason').fill('drawdown 6%');
    await prod.locator('button.trip').click();
    await prod.locator('.result.ok').waitFor();
    expect(await prod.locator('.result').textContent()).toBe('breaker tripped');
    // The row follows the store: the audit event of the trip arrives on the event stream.
    await prod.locator('td.bad', { hasText: 'TRIPPED' }).waitFor();

    const asked = await fetch(`${api.url}/api/breaker/reset`, { method: 'POST', headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ env: 'production', reason: 'drawdown back to 1%' }) });
    expect(asked.status).toBe(409);
    const approval = ((await asked.json()) as { error: { data: { approval: { id: number } } } }).error.data.approval;

    const alice = await loggedIn(tokens.alice, 'alice');
    const own = alice.locator(`#approvals tr[data-approval="${approval.id}"]`);
    await own.locator('button.approve').click();
    await alice.locator('#approvals p.error').waitFor();
    expect(await alice.textContent('#approvals p.error')).toMatch(new RegExp(`^409: alice requested #${approval.id} and cannot approve it`));
    await alice.screenshot({ path: path.join(SHOTS, 'approval-own-refused.png'), fullPage: true });

    const bob = await loggedIn(tokens.bob, 'bob');
    await bob.locator(`#approvals tr[data-approval="${approval.id}"] button.approve`).click();
    await bob.locator('#approvals p.ok').waitFor();
    expect(await bob.textContent('#approvals p.ok')).toBe(`approval #${approval.id} approved`);
    await bob.locator(`#approvals tr[data-approval="${approval.id}"]`, { hasText: 'approved' }).waitFor();
    expect(await bob.textContent(`#approvals tr[data-approval="${approval.id}"]`)).toContain('1/1 (bob)');
    // Alice's page shows bob's approval live (the approval's audit event on the stream), no reload.
    await own.filter({ hasText: '(bob)' }).waitFor();
    await bob.screenshot({ path: path.join(SHOTS, 'approval-granted.png'), fullPage: true });
    const granted = (await (await fetch(`${api.url}/api/approvals?env=production`, { headers: { authorization: `Bearer ${tokens.bob}` } })).json()) as { approvals: { id: number; state: string }[] };
    expect(granted.approvals.find((a) => a.id === approval.id)?.state).toBe('approved');
  });
});
