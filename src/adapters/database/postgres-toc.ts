// `pg_restore --list` read back: what a dump holds, by kind, schema and name.

export interface TocEntry {
  id: number;
  desc: string;
  schema: string;
  name: string;
  owner: string;
}

// The entry kinds the restore compares with the database; longer names first.
const TOC_KINDS = ['MATERIALIZED VIEW', 'FOREIGN TABLE', 'TABLE', 'VIEW', 'SEQUENCE', 'TYPE', 'DOMAIN', 'FUNCTION', 'PROCEDURE', 'AGGREGATE', 'SCHEMA'];
// Other kinds that start like those ("TABLE DATA" is not a "TABLE").
const TOC_LONGER = ['MATERIALIZED VIEW DATA', 'TABLE DATA', 'TABLE ATTACH', 'SEQUENCE SET', 'SEQUENCE OWNED BY'];

/**
 * Parses `pg_restore --list`: "ID; CATALOG OID DESC SCHEMA NAME OWNER", ";" lines are comments.
 * Names are not quoted there; a name with spaces is kept whole (the owner is the last word).
 */
export function parseToc(listing: string): TocEntry[] {
  const entries: TocEntry[] = [];
  for (const raw of listing.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.startsWith(';')) continue;
    const m = /^(\d+); \d+ \d+ (.*)$/.exec(line);
    if (!m) continue;
    const rest = m[2]!;
    const longer = TOC_LONGER.find((k) => rest.startsWith(`${k} `));
    const kind = longer ?? TOC_KINDS.find((k) => rest.startsWith(`${k} `));
    if (!kind) {
      // Other kinds (CONSTRAINT, INDEX, COMMENT, ...): counted, not compared.
      entries.push({ id: Number(m[1]), desc: rest.split(' ')[0]!, schema: '', name: '', owner: '' });
      continue;
    }
    const words = rest.slice(kind.length + 1).split(' ');
    entries.push({ id: Number(m[1]), desc: kind, schema: words[0] ?? '', name: words.slice(1, -1).join(' '), owner: words.length > 2 ? words[words.length - 1]! : '' });
  }
  return entries;
}
