// GET /api/openapi.json: generated from the zod schemas the routes parse requests with.
import { z } from 'zod';
import { ROLES } from '../core/roles.js';
import { READ_ROLES } from './routes-ops.js';
import { OVERRIDE_ROLES } from './routes-release.js';
import { WRITE_ROLES } from './routes-write.js';
import * as s from './schemas.js';

interface Operation {
  method: 'get' | 'post';
  path: string;
  summary: string;
  /** Null: no token needed. */
  role: (typeof ROLES)[number] | null;
  body?: z.ZodType;
  response: z.ZodType;
  query?: string[];
  sse?: boolean;
  /** The response's media type when it is not JSON. */
  media?: string;
  /** Body options that need a higher role than the operation (OVERRIDE_ROLES). */
  overrides?: (keyof typeof OVERRIDE_ROLES)[];
}

const write = (path: keyof typeof WRITE_ROLES) => WRITE_ROLES[path];

/** Every route the server answers (test/api.test.ts checks the list against the app's routes). */
export const OPERATIONS: Operation[] = [
  { method: 'post', path: '/api/login', summary: 'exchange a token for a session cookie (HttpOnly, SameSite=Strict) and a CSRF token; the session is kept (hashed) in the store, so it survives a restart and works on every controller; rate limited per client', role: null, body: s.loginBody, response: s.loginResponse },
  { method: 'post', path: '/api/logout', summary: 'end this browser session, in the store: on every controller sharing it (audited as api.logout)', role: null, response: s.okResponse },
  { method: 'get', path: '/api/me', summary: 'who the token or session belongs to, and its role', role: 'viewer', response: s.meResponse },
  { method: 'get', path: '/api/environments', summary: 'every environment: versions, deployment in progress, lock, monitor, services', role: 'viewer', response: s.environmentsResponse },
  { method: 'get', path: '/api/environments/{env}', summary: 'one environment\'s status', role: 'viewer', response: s.environmentsResponse.shape.environments.element },
  { method: 'get', path: '/api/deployments', summary: 'deployments, newest first, with their steps', role: 'viewer', query: ['env', 'limit'], response: s.deploymentsResponse },
  { method: 'get', path: '/api/deployments/{id}', summary: 'one deployment with its steps', role: 'viewer', response: s.deployment },
  { method: 'get', path: '/api/approvals', summary: 'open approval requests (all=true: also used and expired)', role: 'viewer', query: ['env', 'all'], response: s.approvalsResponse },
  { method: 'get', path: '/api/safety', summary: 'the breaker and kill switch in the platform\'s words with their meaning', role: 'viewer', query: ['env'], response: s.safetyResponse },
  { method: 'get', path: '/api/breaker/preconditions', summary: 'what a breaker reset would check now: each precondition (met, unmet, unknown, not-configured), the kill switch, the open approval request; changes nothing', role: 'viewer', query: ['env'], response: s.preconditionsResponse },
  { method: 'get', path: '/api/incidents', summary: 'incidents, newest first', role: 'viewer', query: ['env', 'limit'], response: s.incidentsResponse },
  { method: 'get', path: '/api/incidents/{id}', summary: 'one incident with its timeline from the audit log', role: 'viewer', response: s.incidentResponse },
  { method: 'get', path: '/api/audit', summary: 'the audit log (the last `limit` events after `since`)', role: 'viewer', query: ['env', 'action', 'version', 'actor', 'since', 'limit'], response: s.auditResponse },
  { method: 'get', path: '/api/window', summary: 'is the deployment window open (at `at`)?', role: 'viewer', query: ['env', 'at'], response: s.windowResponse },
  { method: 'get', path: '/api/soaks', summary: 'soaks: elapsed and remaining time, each gate\'s verdict and history', role: 'viewer', query: ['env', 'limit'], response: s.soaksResponse },
  { method: 'get', path: '/api/monitors', summary: 'production monitors: phase, checks, BLIND, trigger, rollback', role: 'viewer', query: ['env', 'limit'], response: s.monitorsResponse },
  { method: 'get', path: '/api/watches/{id}/series', summary: 'a soak\'s or monitor\'s readings per check over time: value, threshold, baseline, test statistic and bounds', role: 'viewer', query: ['limit'], response: s.seriesResponse },
  { method: 'get', path: '/api/ci/flaky', summary: 'tests that passed and failed on the same commit (`ci flaky`)', role: 'viewer', response: s.flakyResponse },
  { method: 'get', path: '/api/ci/triage', summary: 'each failed job of a GitHub Actions run triaged from its log (`ci triage`)', role: 'viewer', query: ['ref'], response: s.triageResponse },
  { method: 'get', path: '/api/ci/status', summary: 'every check of a commit (`ci status`)', role: 'viewer', query: ['ref'], response: s.ciStatusResponse },
  { method: 'get', path: '/api/events', summary: 'server-sent events: every audit event (event: audit, id: its sequence number; resumes after Last-Event-ID or `since`) and every new reading (event: reading)', role: 'viewer', query: ['since'], response: s.auditEvent, sse: true },
  { method: 'post', path: '/api/approvals', summary: 'ask for an approval (or get the open request for the same action)', role: write('POST /api/approvals'), body: s.approvalRequestBody, response: s.approvalResponse },
  { method: 'post', path: '/api/approvals/{id}/approve', summary: 'approve as the token\'s owner; the requester cannot approve their own', role: write('POST /api/approvals/:id/approve'), response: s.approvalResponse },
  { method: 'post', path: '/api/breaker/trip', summary: 'halt trading: the breaker TRIPPED with the reason', role: write('POST /api/breaker/trip'), body: s.breakerTripBody, response: s.runbookResponse },
  { method: 'post', path: '/api/breaker/reset', summary: 'back to trading: preconditions, then an approval by someone else (409 with the open request until then)', role: write('POST /api/breaker/reset'), body: s.breakerResetBody, response: s.runbookResponse },
  { method: 'post', path: '/api/killswitch/on', summary: 'kill switch on, breaker TRIPPED, every open order cancelled and confirmed', role: write('POST /api/killswitch/on'), body: s.killSwitchOnBody, response: s.runbookResponse },
  { method: 'post', path: '/api/killswitch/off', summary: 'kill switch off after an approval and a clean reconciliation', role: write('POST /api/killswitch/off'), body: s.killSwitchOffBody, response: s.runbookResponse },
  { method: 'post', path: '/api/deploy', summary: 'deploy a release to an environment (`shipgate deploy`): prepare, stop old, start new, verify health, back to the last good version if verification fails; answers when it is done (ok false with failedStep when it failed). allowBad deploys a release marked bad there (audited as deploy.allow-bad); resume finishes an interrupted deployment', role: write('POST /api/deploy'), body: s.deployBody, response: s.deploymentOutcome, overrides: ['allowBad', 'allowTripped'] },
  { method: 'post', path: '/api/promote', summary: 'deploy the release that passed its soak in promoteFrom (`shipgate promote`); 409 listing every unmet requirement', role: write('POST /api/promote'), body: s.promoteBody, response: s.deploymentOutcome, overrides: ['allowTripped'] },
  { method: 'post', path: '/api/rollback', summary: 'return an environment to its last known good version, or `to` (`shipgate rollback`); opens an incident', role: write('POST /api/rollback'), body: s.rollbackBody, response: s.deploymentOutcome, overrides: ['acceptDataLoss'] },
  { method: 'post', path: '/api/stop', summary: 'stop every service shipgate started in an environment (`shipgate stop`), locked and audited like a deploy', role: write('POST /api/stop'), body: s.stopBody, response: s.stopOutcome },
  { method: 'get', path: '/api/locks', summary: 'each environment\'s lock: holder, reason, lease, stale (`shipgate lock status`)', role: 'viewer', response: s.locksResponse },
  { method: 'post', path: '/api/locks/acquire', summary: 'hold an environment so no deploy or rollback runs there (`shipgate lock acquire`); the holder is the token\'s owner', role: write('POST /api/locks/acquire'), body: s.lockAcquireBody, response: s.lockResponse },
  { method: 'post', path: '/api/locks/release', summary: 'release your hold; force breaks anyone\'s, recorded as lock.break (`shipgate lock release`)', role: write('POST /api/locks/release'), body: s.lockReleaseBody, response: s.lockReleaseResponse, overrides: ['force'] },
  { method: 'get', path: '/api/health', summary: 'every service\'s health URL checked once (`shipgate health ENV`)', role: 'viewer', query: ['env'], response: s.healthResponse },
  { method: 'post', path: '/api/health/restart', summary: 'restart each unhealthy service and check it again (`shipgate health ENV --restart-unhealthy`; audited as service.restart)', role: write('POST /api/health/restart'), body: s.envBody, response: s.healthResponse },
  { method: 'get', path: '/api/logs', summary: 'the last `tail` lines of a service\'s log, or of every service (`shipgate logs`); deployer: logs are shown as the services wrote them', role: READ_ROLES['GET /api/logs'], query: ['env', 'service', 'tail'], response: s.logsResponse },
  { method: 'get', path: '/api/controller', summary: 'the leading controller, the standbys and the silent ones (the controller part of `shipgate status`)', role: 'viewer', response: s.controllerResponse },
  { method: 'get', path: '/api/audit/verify', summary: 'check the audit log\'s hash chain, every MAC and the checkpointed head (`shipgate audit --verify`); ok false naming what was cut, altered or forged', role: 'viewer', response: s.auditVerifyResponse },
  { method: 'get', path: '/api/backups', summary: 'recorded database backups, newest first, each with whether its file is still there (`shipgate backups`)', role: 'viewer', query: ['env', 'limit'], response: s.backupsResponse },
  { method: 'post', path: '/api/backups', summary: 'dump an environment\'s database, verify it reads back, record it (`shipgate backup`)', role: write('POST /api/backups'), body: s.envBody, response: s.backupResponse },
  { method: 'get', path: '/api/killswitch', summary: 'the kill switch and breaker with the broker\'s open orders (`shipgate killswitch status`)', role: 'viewer', query: ['env'], response: s.killSwitchStatusResponse },
  { method: 'get', path: '/api/diagnose', summary: 'the seeds\' common issues for an environment, each with evidence and the next command (`shipgate diagnose`)', role: 'viewer', query: ['env'], response: s.diagnoseResponse },
  { method: 'post', path: '/api/restore', summary: 'restore a recorded backup into an environment\'s database under its lock (`shipgate restore`); 409 when data written since would be lost, unless acceptDataLoss; ok false when the integrity check after it failed', role: write('POST /api/restore'), body: s.restoreBody, response: s.restoreResponse },
  { method: 'post', path: '/api/preflight', summary: 'the pre-deployment checklist for a release (`shipgate preflight`), each item with its evidence; attest records the token\'s owner as the person who checked an item', role: write('POST /api/preflight'), body: s.preflightBody, response: s.preflightResponse },
  { method: 'post', path: '/api/announce', summary: 'tell stakeholders a release is coming through the configured notifiers (`shipgate announce`); each delivery is audited as notify.sent or notify.failed', role: write('POST /api/announce'), body: s.announceBody, response: s.announceResponse },
  { method: 'post', path: '/api/ci/rerun', summary: 're-run the failed jobs of a GitHub Actions run (`shipgate ci rerun --failed`)', role: write('POST /api/ci/rerun'), body: s.ciRerunBody, response: s.ciRerunResponse },
  { method: 'get', path: '/api/tokens', summary: 'API tokens: id, owner, role, created, revoked; never the secret (`shipgate token list`; all=true: also revoked ones)', role: READ_ROLES['GET /api/tokens'], query: ['all'], response: s.tokensResponse },
  { method: 'post', path: '/api/tokens/{id}/revoke', summary: 'revoke a token at once: its requests and browser sessions are refused from then on (`shipgate token revoke`)', role: write('POST /api/tokens/:id/revoke'), body: s.tokenRevokeBody, response: s.tokenRevokeResponse },
  { method: 'get', path: '/api/decide', summary: 'roll back or fix forward? the runbook\'s rules (`shipgate decide`); each parameter left out is unknown', role: 'viewer', query: ['affected', 'dataIntegrityAtRisk', 'rootCauseKnown', 'fixEta', 'components', 'fixTested', 'rollbackLosesData', 'critical'], response: s.decideResponse },
  { method: 'get', path: '/api/incidents/{id}/report', summary: 'the incident report in the seed\'s sections, as Markdown (what `shipgate incident export` writes to a file)', role: 'viewer', response: z.string(), media: 'text/markdown' },
  { method: 'get', path: '/api/openapi.json', summary: 'this document', role: null, response: z.record(z.string(), z.unknown()) },
  { method: 'get', path: '/metrics', summary: 'shipgate\'s own metrics in the Prometheus text format', role: null, response: z.string(), media: 'text/plain' },
  { method: 'get', path: '/', summary: 'the dashboard (log in with a token; the page then calls this API)', role: null, response: z.string(), media: 'text/html' },
  { method: 'get', path: '/assets/{name}', summary: 'the dashboard\'s scripts and styles, built by Vite', role: null, response: z.string(), media: 'text/javascript' },
];

const json = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
const errorBody = (description: string) => ({ description, content: { 'application/json': { schema: json(s.errorResponse, 'output') } } });

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const params = [...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })), ...(op.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } }))];
    const mediaType = op.sse ? 'text/event-stream' : op.media ?? 'application/json';
    paths[op.path] = {
      ...paths[op.path],
      [op.method]: {
        summary: op.summary,
        ...(op.role ? { security: [{ bearer: [] }, { session: [] }], 'x-shipgate-role': op.role } : { security: [] }),
        ...(op.overrides ? { 'x-shipgate-override-roles': Object.fromEntries(op.overrides.map((o) => [o, OVERRIDE_ROLES[o]])) } : {}),
        ...(params.length ? { parameters: params } : {}),
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(op.body, 'input') } } } } : {}),
        responses: {
          200: { description: 'ok', content: { [mediaType]: { schema: json(op.response, 'output') } } },
          400: errorBody('bad input: the field, where and how to fix it'),
          ...(op.role ? { 401: errorBody('no valid token or session'), 403: errorBody(`below ${op.role}${op.overrides ? ` (or below the role an override needs: ${op.overrides.map((o) => `${o} ${OVERRIDE_ROLES[o]}`).join(', ')})` : ''}, or a session request without X-CSRF-Token`) } : {}),
          ...(op.method === 'post' && op.role ? { 409: errorBody('refused by policy (approval missing, preconditions, kill switch on, lock held, release marked bad, window closed)') } : {}),
          ...(op.path === '/api/login' ? { 429: errorBody('too many login attempts from this client') } : {}),
        },
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'shipgate control room API', version, description: `Roles: ${ROLES.join(' < ')}. Mutating requests from a browser session need the X-CSRF-Token header.` },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'shipgate_session' } } },
    paths,
  };
}
