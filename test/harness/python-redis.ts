import { execFileSync } from 'node:child_process';

// Another language reading what shipgate wrote: Python's standard library only, Redis through the
// `redis-cli` program, exactly as a platform's own tooling (or an operator's script) would.
const SCRIPT = `
import json, subprocess, sys
port, command, key = sys.argv[1], sys.argv[2], sys.argv[3]
def cli(*args):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", port, "--raw", *args], capture_output=True, text=True, check=True).stdout
if command == "field":
    print(json.dumps(json.loads(cli("GET", key))[sys.argv[4]]))
elif command == "list":
    print(json.dumps([json.loads(line) for line in cli("LRANGE", key, "0", "-1").splitlines() if line]))
`;

/** A field of the JSON object at `key`, as python3's json module sees it. */
export function pythonField(port: number, key: string, field: string): unknown {
  return JSON.parse(execFileSync('python3', ['-c', SCRIPT, String(port), 'field', key, field], { encoding: 'utf8' }));
}

/** Every entry of the Redis list at `key`, each parsed by python3's json module. */
export function pythonList(port: number, key: string): unknown[] {
  return JSON.parse(execFileSync('python3', ['-c', SCRIPT, String(port), 'list', key], { encoding: 'utf8' })) as unknown[];
}
