// `shipgate init` and `shipgate init --from docker-compose.yml`: a commented starter that passes `config check`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkConfigText } from '../src/config/load.js';
import { servicesFromCompose } from '../src/config/starter.js';
import { ShipgateError } from '../src/core/errors.js';
import { shipgate } from './harness/cli.js';

let root = '';
let n = 0;
/** A fresh empty directory per test. */
function emptyDir(): string {
  const d = path.join(root, `w${++n}`);
  mkdirSync(d);
  return d;
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'shipgate-init-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COMPOSE = `# The trading stack, as run by docker compose.
name: trading
services:
  signal_service:
    build: ./signal_service
    command: ["python", "-m", "signal_service", "--interval", "1s"]
    ports: ["8001:8001"]
    environment:
      LOG_LEVEL: info
  execution_gateway:
    image: acme/execution-gateway:1.4
    command: node gateway.js --mode "paper trading"
    ports:
      - "127.0.0.1:8002:8000"
    depends_on: [postgres]
  orchestrator:
    image: acme/orchestrator:2.0
    ports:
      - target: 8000
        published: 8003
        protocol: tcp
    depends_on: [signal_service, execution_gateway]
  postgres:
    image: postgres:16
    command: ["postgres", "-c", "fsync=off"]
    environment:
      POSTGRES_PASSWORD: example
    volumes:
      - pgdata:/var/lib/postgresql/data
volumes:
  pgdata: {}
`;

describe('shipgate init', () => {
  it('writes a commented shipgate.yml that passes config check', async () => {
    const cwd = emptyDir();
    const r = await shipgate(['init'], { cwd });
    expect(r.code).toBe(0);
    const file = path.join(cwd, 'shipgate.yml');
    expect(r.stdout).toContain(`wrote ${file}`);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => /^\s*#/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/#.*passed to the service as PORT/);

    const { config, problems } = checkConfigText(text, file);
    expect(problems).toEqual([]);
    expect(Object.keys(config!.services)).toEqual(['signal_service', 'execution_gateway', 'orchestrator']);
    expect(Object.keys(config!.environments)).toEqual(['staging', 'production']);

    const check = await shipgate(['config', 'check'], { cwd });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('is valid');
  });

  it('refuses to overwrite an existing file (exit 2) unless --force', async () => {
    const cwd = emptyDir();
    const file = path.join(cwd, 'shipgate.yml');
    writeFileSync(file, '# mine\n');
    const again = await shipgate(['init'], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toContain('--force');
    expect(again.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(file, 'utf8')).toBe('# mine\n');

    const forced = await shipgate(['init', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^# shipgate configuration/);
    expect((await shipgate(['config', 'check'], { cwd })).code).toBe(0);
  });

  it('-c names the file to write', async () => {
    const cwd = emptyDir();
    const r = await shipgate(['-c', 'custom.yml', 'init'], { cwd });
    expect(r.code).toBe(0);
    expect(existsSync(path.join(cwd, 'custom.yml'))).toBe(true);
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
    expect((await shipgate(['-c', 'custom.yml', 'config', 'check'], { cwd })).code).toBe(0);
  });
});

describe('shipgate init --from docker-compose.yml', () => {
  it('fills services, ports and commands from the compose file, and passes config check', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'docker-compose.yml'), COMPOSE);
    const r = await shipgate(['init', '--from', 'docker-compose.yml'], { cwd });
    expect(r.code).toBe(0);

    const file = path.join(cwd, 'shipgate.yml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('services taken from docker-compose.yml');
    const { config, problems } = checkConfigText(text, file);
    expect(problems).toEqual([]);
    const services = config!.services;
    expect(Object.keys(services)).toEqual(['signal_service', 'execution_gateway', 'orchestrator', 'postgres']);

    // Host ports: short syntax, short syntax with an IP, and the long syntax.
    expect(services.signal_service!.port).toBe(8001);
    expect(services.execution_gateway!.port).toBe(8002);
    expect(services.orchestrator!.port).toBe(8003);
    // No published port: no port and no health URL (not a made-up one).
    expect(services.postgres!.port).toBeUndefined();
    expect(services.postgres!.health).toBeUndefined();
    expect(services.signal_service!.health).toBe('http://127.0.0.1:{port}/health');

    // Commands: the list form as is, the string form split like a shell, none → compose runs it.
    expect(services.signal_service!.command).toEqual(['python', '-m', 'signal_service', '--interval', '1s']);
    expect(services.execution_gateway!.command).toEqual(['node', 'gateway.js', '--mode', 'paper trading']);
    expect(services.orchestrator!.command).toEqual(['docker-compose', '-f', 'docker-compose.yml', 'up', '--no-deps', 'orchestrator']);
    expect(services.postgres!.command).toEqual(['postgres', '-c', 'fsync=off']);

    // Staging runs next to production on other ports; a service without a port gets no override.
    const staging = config!.environments.staging!.services;
    expect(staging).toEqual({ signal_service: { port: 18001 }, execution_gateway: { port: 18002 }, orchestrator: { port: 18003 } });

    // The raw YAML says the same (the parsed config above went through the schema).
    const raw = parse(text) as { services: Record<string, { port?: number }> };
    expect(Object.fromEntries(Object.entries(raw.services).map(([k, v]) => [k, v.port ?? null]))).toEqual({
      signal_service: 8001,
      execution_gateway: 8002,
      orchestrator: 8003,
      postgres: null,
    });

    const check = await shipgate(['config', 'check'], { cwd });
    expect(check.code).toBe(0);
  });

  it('turns compose names into valid, distinct service names and keeps ports in range', () => {
    const services = servicesFromCompose(
      `services:\n  Web.App:\n    ports: ["60001:80"]\n  web_app:\n    ports: [8080]\n  1worker:\n    command: "run"\n    ports: "9000:9000"\n`,
      'compose.yml',
    );
    expect(services.map((s) => s.name)).toEqual(['web_app', 'web_app_2', 'svc_1worker']);
    // ports must be a list; a bare string is not one (it used to yield port 9 from "9000:9000"[0]).
    expect(services.map((s) => s.port)).toEqual([60001, 8080, undefined]);
  });

  it('a starter made from an unusual compose file still passes config check', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'compose.yml'), `services:\n  Web.App:\n    ports: ["60001:80"]\n  web_app: {}\n  db:\n`);
    const r = await shipgate(['init', '--from', 'compose.yml'], { cwd });
    expect(r.code).toBe(0);
    const check = await shipgate(['config', 'check', '--json'], { cwd });
    expect(check.json().problems).toEqual([]);
    expect(check.code).toBe(0);
  });

  it('a compose file without services exits 2 and writes nothing', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'docker-compose.yml'), 'version: "3.8"\nvolumes:\n  data: {}\n');
    const r = await shipgate(['init', '--from', 'docker-compose.yml'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('declares no services');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);

    writeFileSync(path.join(cwd, 'docker-compose.yml'), 'services: {}\n');
    expect((await shipgate(['init', '--from', 'docker-compose.yml'], { cwd })).code).toBe(2);
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
  });

  it('an invalid compose file exits 2 with its position and writes nothing', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'docker-compose.yml'), 'services:\n  api:\n    image: x\n\tports: ["1:1"]\n');
    const r = await shipgate(['init', '--from', 'docker-compose.yml'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('docker-compose.yml is not valid YAML');
    expect(r.stderr).toContain('docker-compose.yml:4:1');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
  });

  it('a missing compose file exits 2', async () => {
    const cwd = emptyDir();
    const r = await shipgate(['init', '--from', 'nope.yml'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.yml does not exist');
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
  });

  it('servicesFromCompose throws bad input with a position for invalid YAML', () => {
    let error: unknown;
    try {
      servicesFromCompose('services:\n  api: [1, 2\n  db: {}\n', 'c.yml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ShipgateError);
    expect((error as ShipgateError).exitCode).toBe(2);
    expect((error as ShipgateError).where).toMatch(/^c\.yml:\d+:\d+$/);
  });
});
