// The safety panel's guarded controls in Debian's chromium (playwright-core), each user in their own
// browser context, on a platform whose breaker and kill switch are not the demo's
// (test/harness/safety-platform.ts: risk:breaker RUNNING/HALTED, risk:kill disarmed/FIRED):
// alice trips the breaker, asks for its reset and sees each precondition; her own approval is
// refused in the page and by the API; bob approves; alice resets and the row shows the platform's
// RUNNING. A deployer engages the kill switch with a reason (confirmed) and the page shows it
// FIRED; her disengage is refused (403 shown). Staging's unreadable drawdown shows as unknown and
// blocking. Screenshots go to test-results/dashboard/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './harness/cli.js';
import { apiCall, startSafetyPlatform, type SafetyPlatform } from './harness/safety-platform.js';

const CHROMIUM = process.env.SHIPGATE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'dashboard');

let p: SafetyPlatform;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  // alice may trip and ask (deployer rights) and approve (approver); dora is a deployer.
  p = await startSafetyPlatform({ alice: 'approver', bob: 'approver', dora: 'deployer' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await p?.close();
});

async function loggedIn(name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  // Waits are on conditions only: the test's timeout is the one bound.
  context.setDefaultTimeout(0);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  await page.goto(`${p.api.url}/`);
  await page.fill('input[name=token]', p.tokens[name]!);
  await page.click('button[type=submit]');
  await page.waitForSelector('#role');
  expect(await page.textContent('header .who')).toContain(name);
  return page;
}

const text = async (page: Page, selector: string) => (await page.locator(selector).textContent())?.trim();

describe('the safety panel\'s guarded controls in Chromium', () => {
  it('trip, ask for the reset with each precondition shown, own approval refused, another\'s approval, reset; kill switch engaged with a reason, a deployer\'s disengage refused', async () => {
    const alice = await loggedIn('alice');
    const row = alice.locator('#safety tr[data-env=production]');
    // Absent means halted on this platform, and the page says so in the platform's words.
    await row.locator('td.breaker', { hasText: 'unset (halted)' }).waitFor();
    await row.locator('input.reason').fill('drawdown 6%');
    await row.locator('button.trip').click();
    await row.locator('.result.ok').waitFor();
    await row.locator('td.breaker', { hasText: 'HALTED: drawdown 6% (halted)' }).waitFor();

    // The reset request: each precondition with its state, from the reset's own check.
    await row.locator('button.open-reset').click();
    const panel = alice.locator('#safety .reset[data-env=production]');
    await panel.locator('ul.preconditions li').first().waitFor();
    const shown = await panel.locator('ul.preconditions li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-name')}=${li.getAttribute('data-state')}`));
    expect(shown).toEqual(['drawdown normalized=met', 'broker API healthy=met', 'market data fresh=met', 'reconciliation clean=met']);
    expect(await panel.locator('li[data-name="drawdown normalized"]').textContent()).toContain('drawdown_ratio 0.01 (limit 0.05)');
    expect(await text(alice, '#safety .reset[data-env=production] h4')).toBe('Reset the breaker of production: HALTED (halted)');
    // A reason is required before anything is sent.
    await panel.locator('button.request-reset').click();
    expect(await text(alice, '#safety .reset[data-env=production] .reset-result')).toBe('a reason is required to ask for the reset');
    expect(await p.ctx.store.listApprovals({ env: 'production', limit: 5 })).toEqual([]);
    await panel.locator('input.reset-reason').fill('drawdown back to 1%');
    await panel.locator('button.request-reset').click();
    await panel.locator('.reset-result.ok').waitFor();
    const [approval] = await p.ctx.store.listApprovals({ env: 'production', action: 'breaker-reset', limit: 1 });
    expect(approval).toMatchObject({ requester: 'alice', subject: 'risk:breaker', state: 'pending', reason: 'drawdown back to 1%' });
    expect(await text(alice, '#safety .reset[data-env=production] .reset-result')).toBe(`approval #${approval!.id} requested: someone other than alice must approve it`);
    await alice.screenshot({ path: path.join(SHOTS, 'reset-preconditions.png'), fullPage: true });

    // alice's own approval: refused in the page, and by the API.
    await panel.locator('button.approve-reset').click();
    await panel.locator('.reset-result.error').waitFor();
    expect(await text(alice, '#safety .reset[data-env=production] .reset-result')).toMatch(new RegExp(`^409: alice requested #${approval!.id} and cannot approve it`));
    const own = await apiCall(p.api.url, 'POST', `/api/approvals/${approval!.id}/approve`, p.tokens.alice);
    expect(own.status).toBe(409);
    await alice.screenshot({ path: path.join(SHOTS, 'reset-own-approval-refused.png'), fullPage: true });

    // bob approves from his own reset panel.
    const bob = await loggedIn('bob');
    await bob.locator('#safety tr[data-env=production] button.open-reset').click();
    const bobPanel = bob.locator('#safety .reset[data-env=production]');
    await bobPanel.locator('button.approve-reset').click();
    await bobPanel.locator('.reset-result.ok').waitFor();
    expect(await text(bob, '#safety .reset[data-env=production] .reset-result')).toBe(`approval #${approval!.id} approved`);

    // alice's panel follows live: approved by bob, the reset button appears; it asks to confirm.
    await panel.locator('p.approval', { hasText: '(approved)' }).waitFor();
    expect(await text(alice, '#safety .reset[data-env=production] p.approval')).toContain('1/1 (bob)');
    await panel.locator('button.do-reset').click();
    await panel.locator('.confirm', { hasText: 'Reset the breaker of production to trading?' }).waitFor();
    await panel.locator('button.confirm-reset').click();
    await panel.locator('.reset-result.ok').waitFor();
    expect(await text(alice, '#safety .reset[data-env=production] .reset-result')).toBe('breaker reset: now RUNNING (trading)');
    await row.locator('td.breaker.ok', { hasText: 'RUNNING (trading)' }).waitFor();
    const safety = await apiCall(p.api.url, 'GET', '/api/safety?env=production', p.tokens.bob);
    expect(safety.json.safety.state.breaker).toMatchObject({ key: 'risk:breaker', field: 'status', value: 'RUNNING', meaning: 'trading' });
    await alice.screenshot({ path: path.join(SHOTS, 'reset-done.png'), fullPage: true });

    // dora (deployer) engages the kill switch: a reason is required, then a confirm step.
    const dora = await loggedIn('dora');
    const drow = dora.locator('#safety tr[data-env=production]');
    await drow.locator('button.open-ks').click();
    const ks = dora.locator('#safety .killswitch[data-env=production]');
    await ks.locator('button.ks-engage').click();
    expect(await text(dora, '#safety .killswitch[data-env=production] .ks-result')).toBe('a reason is required');
    await ks.locator('input.ks-reason').fill('runaway strategy on AAPL');
    await ks.locator('button.ks-engage').click();
    await ks.locator('.confirm', { hasText: 'Halt trading in production' }).waitFor();
    expect((await p.ctx.store.listAudit({ action: 'killswitch.engage', limit: 5 })).length).toBe(0);
    await ks.locator('button.ks-confirm').click();
    await ks.locator('.ks-result.ok').waitFor();
    expect(await text(dora, '#safety .killswitch[data-env=production] .ks-result')).toMatch(/^kill switch engaged: FIRED \(halted\); incident #\d+$/);
    await drow.locator('td.ks.bad', { hasText: 'ENGAGED (halted): runaway strategy on AAPL' }).waitFor();
    await ks.locator('h4', { hasText: 'FIRED (halted) · runaway strategy on AAPL' }).waitFor();
    // The kill switch trips the breaker too; alice's page shows both, live.
    await row.locator('td.ks.bad', { hasText: 'ENGAGED' }).waitFor();
    await row.locator('td.breaker.bad', { hasText: 'HALTED' }).waitFor();
    await dora.screenshot({ path: path.join(SHOTS, 'killswitch-engaged.png'), fullPage: true });

    // dora's disengage: confirmed, sent, refused with the API's 403 shown; the switch stays FIRED.
    await ks.locator('button.ks-disengage').click();
    await ks.locator('button.ks-confirm').click();
    await ks.locator('.ks-result.error').waitFor();
    expect(await text(dora, '#safety .killswitch[data-env=production] .ks-result')).toMatch(/^403: dora's token is deployer/);
    expect((await apiCall(p.api.url, 'POST', '/api/killswitch/off', p.tokens.dora, { env: 'production', reason: 'try' })).status).toBe(403);
    expect((await apiCall(p.api.url, 'GET', '/api/safety?env=production', p.tokens.dora)).json.safety.state.killSwitch).toMatchObject({ key: 'risk:kill', value: 'FIRED' });
    await dora.screenshot({ path: path.join(SHOTS, 'killswitch-off-refused.png'), fullPage: true });

    // Staging's drawdown cannot be read: unknown, shown as blocking, never as met.
    expect((await apiCall(p.api.url, 'POST', '/api/breaker/trip', p.tokens.dora, { env: 'staging', reason: 'staging drill' })).status).toBe(200);
    const srow = alice.locator('#safety tr[data-env=staging]');
    await srow.locator('td.breaker.bad', { hasText: 'TRIPPED' }).waitFor();
    await srow.locator('button.open-reset').click();
    const spanel = alice.locator('#safety .reset[data-env=staging]');
    await spanel.locator('li[data-name="drawdown normalized"][data-state=unknown]').waitFor();
    expect(await spanel.locator('li[data-name="drawdown normalized"] span.bad').textContent()).toBe('unknown: cannot be read, blocks the reset');
    expect(await spanel.locator('p.refusals').textContent()).toMatch(/^A reset would be refused now: drawdown normalized \(unknown: .*404/);
    await spanel.screenshot({ path: path.join(SHOTS, 'reset-precondition-unknown.png') });
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
