// `shipgate demo --serve`: the control room API is up while the demo runs, with a viewer token.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from './harness/cli.js';

describe('shipgate demo --serve', () => {
  it('prints the API URL and a viewer token, and the API shows the soak\'s readings live while the demo runs', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--serve'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const [, url, token] = await new Promise<RegExpExecArray>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /control room API: (http:\/\/127\.0\.0\.1:\d+) .* viewer token (sgt_\S+)/.exec(out);
          if (m) resolve(m);
        });
        void exited.then((code) => reject(new Error(`demo exited ${code} before printing the API:\n${out}\n${err}`)));
      });
      const get = async (p: string) => (await fetch(`${url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>;
      expect(await get('/api/me')).toMatchObject({ name: 'demo-viewer', role: 'viewer' });
      // Wait for the first soak to have readings: the chart's series, served while the demo runs.
      let points = 0;
      while (points < 2) {
        const soak = (await get('/api/soaks?env=staging')).soaks.at(-1);
        if (soak) points = Math.min(...(await get(`/api/watches/${soak.id}/series`)).checks.map((c: { points: unknown[] }) => c.points.length));
        await new Promise((r) => setTimeout(r, 200));
      }
      const refused = await fetch(`${url}/api/breaker/trip`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ env: 'production', reason: 'viewer tries' }) });
      expect(refused.status).toBe(403);
    } finally {
      const code = await exited;
      expect(code, `${out}\n${err}`).toBe(0);
    }
    expect(out).toMatch(/demo ok/);
  }, 300_000);
});
