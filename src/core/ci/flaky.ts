/** A test is flaky when it both passed and failed on one commit (Trunk's and BuildPulse's definition). */
export interface OutcomeCount {
  test: string;
  commit: string;
  passed: number;
  failed: number;
  lastSeen: string;
}

export interface FlakyTest {
  test: string;
  passed: number;
  failed: number;
  /** Commits on which it both passed and failed. */
  commits: string[];
  lastSeen: string;
}

export function flakyTests(counts: OutcomeCount[]): FlakyTest[] {
  const byTest = new Map<string, FlakyTest>();
  for (const c of counts) {
    if (c.passed === 0 || c.failed === 0) continue;
    const f = byTest.get(c.test) ?? { test: c.test, passed: 0, failed: 0, commits: [], lastSeen: c.lastSeen };
    f.passed += c.passed;
    f.failed += c.failed;
    f.commits.push(c.commit);
    if (c.lastSeen > f.lastSeen) f.lastSeen = c.lastSeen;
    byTest.set(c.test, f);
  }
  return [...byTest.values()].sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : a.test.localeCompare(b.test)));
}
