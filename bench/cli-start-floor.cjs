// The floor under `shipgate status` (issue 15, cli-start bench): what any program pays to show the
// same evidence with the least code — Node, the SQLite file opened (node:sqlite where Node has it,
// else better-sqlite3, as the store does), the queries status needs (the migrations check, the
// audit tip, locks, running monitors, each environment's deployments, the controllers) and one HTTP
// GET per service health URL, all at once, 2 s timeout. No CLI parser, no config check, no query
// builder, no output. Run in the bench's directory: node cli-start-floor.cjs <environments> <firstPort>
'use strict';
const path = require('node:path');
const http = require('node:http');

const [environments, firstPort] = process.argv.slice(2).map(Number);
const file = path.join(process.cwd(), '.shipgate', 'state.db');
const builtinSqlite = () => {
  try {
    process.removeAllListeners('warning');
    return process.getBuiltinModule?.('node:sqlite');
  } catch {
    return undefined;
  }
};
const nodeSqlite = builtinSqlite();
const db = nodeSqlite ? new nodeSqlite.DatabaseSync(file) : new (require('better-sqlite3'))(file);
const all = (sql, ...params) => db.prepare(sql).all(...params);
db.exec('pragma busy_timeout = 10000');
all('select name from shipgate_migrations');
all('select * from audit order by seq desc limit 1');
all('select * from locks');
all("select * from watches where kind = 'monitor' and state = 'running' order by id desc");
all('select * from controller_leader');
all('select * from controllers');
for (let i = 0; i < environments; i++) all('select * from deployments where env = ? order by id desc limit 200', `desk${i}`);
db.close();

const agent = new http.Agent({ keepAlive: true });
let open = environments * 2;
for (let i = 0; i < environments * 2; i++) {
  const req = http.get({ host: '127.0.0.1', port: firstPort + i, path: '/healthz', agent, timeout: 2000 }, (res) => res.resume().on('end', done));
  req.on('error', done).on('timeout', () => req.destroy());
}
function done() {
  if (--open === 0) agent.destroy();
}
