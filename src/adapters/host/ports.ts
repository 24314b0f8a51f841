import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface PortHolder {
  port: number;
  pid: number | undefined;
  command: string | undefined;
}

/** Listening TCP sockets on this host from /proc/net/tcp{,6} (state 0A): local port -> socket inodes. */
function listeningInodes(): Map<number, Set<string>> {
  const byPort = new Map<number, Set<string>>();
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
      // Inode 0: a socket of another network namespace or already closing; nobody we can name.
      if (!byPort.has(port)) byPort.set(port, new Set());
      byPort.get(port)!.add(cols[9]!);
    }
  }
  return byPort;
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every process holding a listening socket on `port` (a forking server shares it with its
 * workers), read from /proc like `lsof -i :PORT`. `listening` is false when nothing listens;
 * a listener whose process we cannot see (another user's) gives listening with no pids.
 */
export function portHolders(port: number): { listening: boolean; holders: PortHolder[] } {
  const inodes = listeningInodes().get(port);
  if (!inodes) return { listening: false, holders: [] };
  const targets = new Set([...inodes].map((i) => `socket:[${i}]`));
  const holders: PortHolder[] = [];
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
        if (targets.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) {
          holders.push({ port, pid: Number(entry), command: commandOf(Number(entry)) });
          break;
        }
      } catch {
        /* the process or fd went away while we looked */
      }
    }
  }
  return { listening: true, holders };
}

/** Who listens on `port` here, like `lsof -i :PORT`, read from /proc (Linux; no extra tool). */
export function portHolder(port: number): PortHolder | undefined {
  const { listening, holders } = portHolders(port);
  if (!listening) return undefined;
  return holders[0] ?? { port, pid: undefined, command: undefined };
}
