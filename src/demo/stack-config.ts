/** shipgate.yml for the sample trading stack, with each environment on its own ports. */
export interface StackPorts {
  signal: number;
  gateway: number;
  orchestrator: number;
}

export interface StackConfigOptions {
  healthTimeout?: string;
  nodeBin?: string;
  /** Soak, monitor, promotion and metric checks, as the full demo story uses them. */
  analysis?: boolean;
}

// The sample stack's latency is this machine's: a busy host moves a local p95 by more than the
// seed's 10%, so the demo gates latency loosely (the tests' second stack uses the seed's values).
const ANALYSIS = `    analysis:
      interval: 500ms
      checks:
        - { name: error-rate, type: error-rate, select: 'service="execution_gateway",route="/orders"', target: 1%, limit: 5% }
        - { name: latency-p95, type: latency, select: 'service="execution_gateway",route="/orders"', max: 500ms, maxIncrease: 100%, rollbackIncrease: 100% }
        - { name: orchestrator, type: http-json, url: 'http://127.0.0.1:{orchestrator}/status', path: status, equals: healthy, consecutive: 3 }`;

// The demo runs whatever the market is doing, so the window is reported but not enforced here;
// `shipgate window check` shows the policy on its own.
const production = (p: StackPorts) => `    promoteFrom: staging
    onCall: [demo-oncall]
    window: { enforce: false }
    # The demo's clock runs thousands of times faster than traffic: 72h of monitoring is seconds of
    # real requests, enough for the sequential test to decide (a monitor that ends without that much
    # evidence ends inconclusive, as it should).
    monitor: { autoRollback: true, healthGrace: 30s, medium: 72h }
    trading:
      keyPrefix: 'prod:'
      broker: { type: paper, url: 'http://127.0.0.1:${p.gateway}' }
      cancelTimeout: 10s
      reconciliation: { positionsUrl: 'http://127.0.0.1:${p.gateway}/positions', tolerance: 0 }`;

/** Where the demo's notifications go: a local receiver standing in for Slack, a webhook and Grafana. */
export const DEMO_NOTIFICATIONS = `notifications:
  - { type: slack, urlEnv: SHIPGATE_DEMO_SLACK_URL }
  - { type: webhook, urlEnv: SHIPGATE_DEMO_WEBHOOK_URL }
  - { type: grafana, urlEnv: SHIPGATE_DEMO_GRAFANA_URL, tokenEnv: SHIPGATE_DEMO_GRAFANA_TOKEN, tags: [demo] }
`;

export function demoStackConfig(repoDir: string, ports: Record<string, StackPorts>, options: StackConfigOptions = {}): string {
  const node = JSON.stringify(options.nodeBin ?? process.execPath);
  const healthTimeout = options.healthTimeout ?? '20s';
  const envs = Object.entries(ports)
    .map(([env, p]) => {
      const live = env === 'production';
      const extra = !options.analysis ? '' : `\n${ANALYSIS.replace('{orchestrator}', String(p.orchestrator))}\n${live ? production(p) : '    soak: { maxInconclusive: 10% }'}`;
      return `  ${env}:
    target: { type: process }
    env: { TRADING_MODE: ${live && options.analysis ? 'live' : 'paper'} }
    services:
      signal_service: { port: ${p.signal} }
      execution_gateway: { port: ${p.gateway} }
      orchestrator:
        port: ${p.orchestrator}
        env:
          SIGNAL_SERVICE_URL: http://127.0.0.1:${p.signal}
          EXECUTION_GATEWAY_URL: http://127.0.0.1:${p.gateway}
    health: { timeout: ${healthTimeout}, interval: 250ms }${extra}`;
    })
    .join('\n');
  return `version: 1
project: sample_trading_platform
repository: ${JSON.stringify(repoDir)}
stateDir: .shipgate
# The demo runs as one person on one machine: approvals are taken on a typed name. Real setups
# leave identity at its default (signature) and name an approvals.allowedSigners file.
approvals: { identity: trust-local }
services:
  signal_service:
    command: [${node}, signal_service/main.mjs]
    health: http://127.0.0.1:{port}/health
    metrics: http://127.0.0.1:{port}/metrics
  execution_gateway:
    command: [${node}, execution_gateway/main.mjs]
    health: http://127.0.0.1:{port}/health
    metrics: http://127.0.0.1:{port}/metrics
  orchestrator:
    command: [${node}, orchestrator/main.mjs]
    health: http://127.0.0.1:{port}/health
    metrics: http://127.0.0.1:{port}/metrics
environments:
${envs}
${options.analysis ? DEMO_NOTIFICATIONS : ''}`;
}
