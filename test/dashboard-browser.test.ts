// The dashboard in a real browser (Debian's chromium driven by playwright-core) over `shipgate demo
// --serve`: log in with the demo's viewer token, see the environments, watch a soak chart gain
// points live from the event stream while the sample stack serves traffic, its error-rate test's
// log-likelihood ratio drawn against its decision bounds, a viewer cannot trip
// the breaker (the UI shows the API's 403), and production's regression appears live: rolled back to
// v1.0.0 with its incident and timeline, and in the audit log filtered by environment and action. Screenshots go to test-results/dashboard/.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from './harness/cli.js';

const CHROMIUM = process.env.SHIPGATE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'dashboard');

/**
 * Polls `probe` (which reads the page) until it returns a value: a condition, no time bound (the
 * test's timeout is the backstop); fails at once when the demo has ended, since nothing would change.
 */
async function until<T>(page: Page, what: string, probe: () => Promise<T | null>, ended: () => boolean): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (ended()) throw new Error(`the demo ended before the dashboard showed ${what}`);
    await page.waitForTimeout(250);
  }
}

/** The number of readings a chart shows (its data-points attribute), or null while it is not there. */
async function points(page: Page, selector: string): Promise<number | null> {
  const chart = page.locator(selector).first();
  if ((await chart.count()) === 0) return null;
  const n = await chart.getAttribute('data-points');
  return n === null ? null : Number(n);
}

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
});

describe('the dashboard in Chromium', () => {
  it('logs in, shows the environments, a soak chart gaining points live, refuses a viewer\'s breaker trip, and shows a production rollback live with its incident', async () => {
    expect(existsSync(CHROMIUM), `Debian's chromium at ${CHROMIUM} (scripts/ensure-system-deps.sh installs it)`).toBe(true);
    mkdirSync(SHOTS, { recursive: true });
    console.log(`dashboard screenshots: ${SHOTS}`);
    // A slower clock than the demo's default, so a soak runs for tens of seconds while the browser watches.
    const child = spawn(process.execPath, [BIN, 'demo', '--serve', '--speed', '2400'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let ended = false;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((ended = true), resolve(code))));
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      const [, url, token] = await new Promise<RegExpExecArray>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /control room API: (http:\/\/127\.0\.0\.1:\d+) .* viewer token (sgt_\S+)/.exec(out);
          if (m) resolve(m);
        });
        void exited.then((code) => reject(new Error(`demo exited ${code} before printing the API:\n${out}\n${err}`)));
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      // Waits are on conditions only: the test's timeout is the one bound (a busy machine is slow, not broken).
      page.setDefaultTimeout(0);
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      let navigations = 0;
      page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);

      // Log in: a wrong token is refused, the demo's viewer token lets us in.
      await page.goto(`${url}/`);
      await page.fill('input[name=token]', 'sgt_not-a-token');
      await page.click('button[type=submit]');
      await page.waitForSelector('.login .error');
      expect(await page.textContent('.login .error')).toMatch(/^401: /);
      await page.fill('input[name=token]', token!);
      await page.click('button[type=submit]');
      await page.waitForSelector('#role');
      expect(await page.textContent('#role')).toBe('viewer');

      // The environments, from the API.
      await page.waitForSelector('#environments tr[data-env=staging]');
      expect(await page.textContent('#environments')).toContain('production');
      // Every state production's row goes through, kept in the page: the demo ends (and records its
      // stop) soon after the rollback, so the row is checked for having shown it, not for showing it now.
      await page.evaluate(`(() => {
        window.prodRows = [];
        const keep = () => {
          const cells = [...document.querySelectorAll('#environments tr[data-env=production] td')].map((td) => td.textContent ?? '');
          if (cells.length && JSON.stringify(window.prodRows.at(-1)) !== JSON.stringify(cells)) window.prodRows.push(cells);
        };
        new MutationObserver(keep).observe(document.body, { subtree: true, childList: true, characterData: true });
        keep();
      })()`);

      // A soak's chart gains points without a reload: remember each chart's count, wait for one to grow.
      const first = await until(page, 'a soak chart with readings', async () => {
        const chart = page.locator('article.watch[data-kind=soak] figure.chart:not(.strip)').first();
        const n = await points(page, 'article.watch[data-kind=soak] figure.chart:not(.strip)');
        return n !== null && n >= 1 ? { watch: (await chart.getAttribute('data-watch'))!, check: (await chart.getAttribute('data-check'))!, points: n } : null;
      }, () => ended);
      const selector = `figure.chart[data-watch="${first.watch}"][data-check="${first.check}"]`;
      const grown = await until(page, `soak #${first.watch}'s ${first.check} chart gaining points`, async () => {
        const n = await points(page, selector);
        return n !== null && n > first.points ? n : null;
      }, () => ended);
      expect(grown).toBeGreaterThan(first.points);
      expect(navigations, 'the page was not reloaded').toBe(1);
      // The chart draws the measured value with its threshold and baseline (uPlot's legend).
      const legend = await page.textContent(`${selector} .u-legend`);
      expect(legend).toMatch(/value[\s\S]*threshold[\s\S]*baseline/);
      await page.screenshot({ path: path.join(SHOTS, 'soak-live.png'), fullPage: true });
      // Under a rate check's chart, its sequential test: the log-likelihood ratio against the decision
      // bounds, drawn from the readings' statistic, lower and upper (each reading after the first has them).
      const sprt = page.locator('article.watch[data-kind=soak] figure.chart[data-check="error-rate"] .sprt').first();
      const statistics = await until(page, 'a soak\'s error-rate chart with its sequential test', async () => ((await sprt.count()) > 0 && Number(await sprt.getAttribute('data-statistics')) >= 2 ? Number(await sprt.getAttribute('data-statistics')) : null), () => ended);
      expect(await sprt.locator('.u-legend').textContent()).toMatch(/log-likelihood ratio[\s\S]*upper bound \(regression\)[\s\S]*lower bound \(healthy\)[\s\S]*Wald sum/);
      const watchId = await sprt.locator('xpath=ancestor::figure').getAttribute('data-watch');
      const series = (await (await fetch(`${url}/api/watches/${watchId}/series`, { headers: { authorization: `Bearer ${token}` } })).json()) as { checks: { name: string; points: { statistic: number | null; wald: number | null; lower: number | null; upper: number | null }[] }[] };
      const rate = series.checks.find((c) => c.name === 'error-rate')!.points;
      expect(rate.length).toBeGreaterThanOrEqual(statistics);
      expect(rate.slice(1).filter((x) => x.statistic === null || x.wald === null || x.lower === null || x.upper === null)).toEqual([]);
      expect(rate.slice(1).every((x) => x.lower! < 0 && x.upper! > 0 && x.statistic! >= 0 && x.wald! > x.lower!)).toBe(true);
      await sprt.locator('xpath=ancestor::article').screenshot({ path: path.join(SHOTS, 'soak-sprt.png') });

      // A viewer's trip of the production breaker: the UI shows the API's 403, and the API refuses.
      const row = page.locator('#safety tr[data-env=production]');
      await row.locator('input.reason').fill('a viewer tries');
      await row.locator('button.trip').click();
      await row.locator('.result').waitFor();
      expect(await row.locator('.result').textContent()).toMatch(/^403: demo-viewer's token is viewer/);
      await page.screenshot({ path: path.join(SHOTS, 'viewer-trip-refused.png'), fullPage: true });
      const refused = await fetch(`${url}/api/breaker/trip`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ env: 'production', reason: 'viewer tries' }) });
      expect(refused.status).toBe(403);
      const safety = (await (await fetch(`${url}/api/safety?env=production`, { headers: { authorization: `Bearer ${token}` } })).json()) as { safety: { breaker: string } };
      expect(safety.safety.breaker).not.toBe('tripped');

      // A production rollback appears live with its incident: the demo's v1.2.0 regresses in
      // production, shipgate rolls it back to v1.0.0 and opens an incident, and the page shows it
      // all without a reload: the incident with its timeline, the monitor, the rollback deployment.
      // The audit log filtered to production's incident.open, set now: the incident's event arrives live.
      await page.selectOption('#audit select[name=env]', 'production');
      await page.fill('#audit input[name=action]', 'incident.open');
      await page.press('#audit input[name=action]', 'Tab');
      // (The demo's kill-switch drill opens a second production incident later, without a rollback.)
      const shown = (what: string, l: ReturnType<Page['locator']>) => until(page, what, async () => ((await l.count()) > 0 ? true : null), () => ended);
      const incident = page.locator('#incidents article.incident[data-env=production]', { has: page.locator('.rollback') }).first();
      await shown('a production incident with its rollback', incident);
      expect(await incident.locator('.rollback').textContent()).toBe('rolled back to v1.0.0');
      expect(await incident.locator('h3').textContent()).toMatch(/^incident #\d+ · production · open/);
      // The timeline runs from the bad release's deploy to the incident's opening; the incident row is
      // written just before its `incident.open` event, so a page that fetched in between shows the
      // timeline without its last line until the next event (the demo may end first on a fast machine).
      await shown('the incident\'s timeline from the deploy of v1.2.0', incident.locator('.timeline li[data-action="deploy.start"]', { hasText: 'v1.2.0' }));
      const timeline = await incident.locator('.timeline li').allTextContents();
      expect(timeline.some((t) => /deploy\.start\s+v1\.2\.0/.test(t)), timeline.join('\n')).toBe(true);
      let seen: string[][] = [];
      await until(page, 'production back on v1.0.0 after a rollback', async () => {
        seen = (await page.evaluate('window.prodRows')) as string[][];
        return seen.some((cells) => cells[1] === 'v1.0.0' && / rollback v1\.0\.0: /.test(cells[3] ?? '')) ? seen : null;
      }, () => ended).catch((e: Error) => {
        throw new Error(`${e.message}; the row went through ${JSON.stringify(seen)}`);
      });
      const monitor = page.locator('article.watch[data-kind=monitor]', { hasText: 'production v1.2.0' }).first();
      await until(page, 'the monitor of v1.2.0 showing its rollback', async () => {
        const head = (await monitor.count()) > 0 ? await monitor.locator('h3').textContent() : null;
        return head && head.includes('rolled back to v1.0.0') ? head : null;
      }, () => ended);
      expect(await monitor.locator('h3').textContent()).toMatch(/phase (immediate|short|medium|done)/);
      await page.screenshot({ path: path.join(SHOTS, 'rollback-live.png'), fullPage: true });
      // The audit log panel, filtered before the incident, shows its incident.open live.
      await shown('the audit log filtered to production\'s incident.open', page.locator('#audit tbody tr[data-action="incident.open"]'));
      await until(page, 'the audit log with only the filtered events', async () => ((await page.locator('#audit tbody tr:not([data-action="incident.open"])').count()) === 0 ? true : null), () => ended);
      const rows = await page.locator('#audit tbody tr').evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-env')} ${tr.getAttribute('data-action')}`));
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows)).toEqual(new Set(['production incident.open']));
      expect(navigations, 'the page was not reloaded').toBe(1);
      await page.locator('#audit').screenshot({ path: path.join(SHOTS, 'audit-filtered.png') });
      expect(pageErrors).toEqual([]);
    } finally {
      await browser?.close();
      browser = undefined;
      const code = await exited;
      expect(code, `${out}\n${err}`).toBe(0);
    }
  }, 600_000);
});
