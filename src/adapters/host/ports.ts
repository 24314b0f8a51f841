import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface PortHolder {
  port: number;
  pid: number | undefined;
  command: string | undefined;
}

/** Listening TCP sockets on this host from /proc/net/tcp{,6} (state 0A), by local port -> socket inode. */
function listeningInodes(): Map<number, string> {
  const byPort = new Map<number, string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      const port = parseInt(cols[1]!.split(':')[1]!, 16);
      byPort.set(port, cols[9]!);
    }
  }
  return byPort;
}

/** Who listens on `port` here, like `lsof -i :PORT`, read from /proc (Linux; no extra tool). */
export function portHolder(port: number): PortHolder | undefined {
  const inode = listeningInodes().get(port);
  if (!inode) return undefined;
  const target = `socket:[${inode}]`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${entry}/fd/${fd}`) === target) {
          const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
          return { port, pid: Number(entry), command: cmdline || undefined };
        }
      } catch {
        /* the process went away while we looked */
      }
    }
  }
  return { port, pid: undefined, command: undefined };
}
