/** Test outcomes from a JUnit XML report (pytest --junitxml, vitest/jest junit reporters, Surefire). */
export interface JUnitCase {
  test: string;
  outcome: 'passed' | 'failed' | 'skipped';
  message: string | null;
  file: string | null;
}

const TESTCASE = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
const ATTR = /([\w:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g;

export function parseJUnit(xml: string): JUnitCase[] {
  if (!/<testsuites?\b/.test(xml) && !/<testcase\b/.test(xml)) throw new Error('not a JUnit XML report (no <testsuite> or <testcase> element)');
  const cases: JUnitCase[] = [];
  for (const m of xml.matchAll(TESTCASE)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(ATTR)) attrs[a[1]!] = unescapeXml(a[3] ?? a[4] ?? '');
    const body = m[3] ?? '';
    const failure = /<(failure|error)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    const skipped = /<skipped\b/.test(body);
    let message: string | null = null;
    if (failure) {
      const msg = /\bmessage\s*=\s*("([^"]*)"|'([^']*)')/.exec(failure[2]!);
      message = msg ? unescapeXml(msg[2] ?? msg[3] ?? '') : firstLine(unescapeXml(failure[4] ?? ''));
    }
    cases.push({
      test: testId(attrs),
      outcome: failure ? 'failed' : skipped ? 'skipped' : 'passed',
      message,
      file: attrs.file ?? null,
    });
  }
  return cases;
}

/** Names a test as its runner does: pytest `path/to/test_x.py::name`, vitest `file > suite > name`. */
function testId(attrs: Record<string, string>): string {
  const name = attrs.name ?? '(unnamed)';
  const classname = attrs.classname ?? '';
  const file = attrs.file ?? '';
  if (file.endsWith('.py')) return `${file}::${name}`;
  if (/^[\w]+(\.[\w]+)+$/.test(classname) && !/\.(test|spec)$/.test(classname)) return `${classname.replace(/\./g, '/')}.py::${name}`;
  if (classname && /[/\\]|\.[cm]?[jt]sx?$/.test(classname)) return `${classname} > ${name}`;
  return classname && classname !== name ? `${classname} > ${name}` : name;
}

function firstLine(s: string): string | null {
  const line = s.split('\n').map((l) => l.trim()).find((l) => l !== '');
  return line ?? null;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
    if (named[e.toLowerCase()]) return named[e.toLowerCase()]!;
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}
