/** shipgate.yml for the sample trading stack, with each environment on its own ports. */
export interface StackPorts {
  signal: number;
  gateway: number;
  orchestrator: number;
}

export function demoStackConfig(repoDir: string, ports: Record<string, StackPorts>, options: { healthTimeout?: string; nodeBin?: string } = {}): string {
  const nodeBin = options.nodeBin ?? process.execPath;
  const healthTimeout = options.healthTimeout ?? '20s';
  const node = JSON.stringify(nodeBin);
  const envs = Object.entries(ports)
    .map(([env, p]) => `  ${env}:
    target: { type: process }
    env: { TRADING_MODE: paper }
    services:
      signal_service: { port: ${p.signal} }
      execution_gateway: { port: ${p.gateway} }
      orchestrator:
        port: ${p.orchestrator}
        env:
          SIGNAL_SERVICE_URL: http://127.0.0.1:${p.signal}
          EXECUTION_GATEWAY_URL: http://127.0.0.1:${p.gateway}
    health: { timeout: ${healthTimeout}, interval: 250ms }`)
    .join('\n');
  return `version: 1
project: sample_trading_platform
repository: ${JSON.stringify(repoDir)}
stateDir: .shipgate
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
`;
}
