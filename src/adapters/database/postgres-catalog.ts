// The user objects of a database as the catalog names them (and as pg_dump does), the statements
// that drop them, and a fingerprint of schema and data to compare a database before and after.

import type pg from 'pg';

/** A fingerprint of a database's schema and data, to compare before and after a restore. */
export interface ContentChecksum {
  /** "kind schema name" of every user object (tables, views, sequences, types, routines, schemas). */
  objects: string[];
  /** md5 of every user table's columns: name, type, nullability, default, in order. */
  columns: string;
  /** md5 of each user table's rows, keyed "schema.table". */
  tables: Record<string, string>;
}

export interface CatalogObject {
  kind: string;
  schema: string;
  name: string;
  drop: string;
  rank: number;
}

export const objectKey = (o: { desc?: string; kind?: string; schema: string; name: string }) => `${o.kind ?? o.desc}\u0000${o.schema}\u0000${o.name}`;
export const describeObject = (o: CatalogObject) => `${o.kind.toLowerCase()} ${o.schema === '-' ? o.name : `${o.schema}.${o.name}`}`;

/** Objects inside a schema that is dropped anyway need no statement of their own. */
export function withoutContents(objects: CatalogObject[]): CatalogObject[] {
  const schemas = new Set(objects.filter((o) => o.kind === 'SCHEMA').map((o) => o.name));
  return objects.filter((o) => o.kind === 'SCHEMA' || !schemas.has(o.schema)).sort((a, b) => a.rank - b.rank);
}

/** Each drop in its own subtransaction: one that fails is reported, and the restore goes on. */
export function dropStatement(o: CatalogObject, tag: string): string {
  const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
  return `DO $${tag}$ BEGIN EXECUTE ${literal(o.drop)}; EXCEPTION WHEN OTHERS THEN RAISE WARNING 'shipgate: could not remove % -- %', ${literal(describeObject(o))}, SQLERRM; END $${tag}$;`;
}

/**
 * User objects, named as pg_dump names them, with the statement that drops each one. Extension
 * members are left alone (the dump recreates extensions), and so are sequences that belong to a
 * column (serial, identity): they go with their table. Run with search_path = pg_catalog.
 */
const USER_OBJECTS_SQL = `
with ns as (
  select oid, nspname from pg_namespace
  where nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_toast%' and nspname not like 'pg\\_temp\\_%'
),
ext as (select classid, objid from pg_depend where deptype = 'e')
select 'SCHEMA' as kind, '-' as schema, n.nspname as name, format('DROP SCHEMA IF EXISTS %I CASCADE', n.nspname) as drop, 0 as rank
  from ns n
  where n.nspname <> 'public'
    and not exists (select 1 from ext where ext.classid = 'pg_namespace'::regclass and ext.objid = n.oid)
    and not exists (select 1 from pg_extension e where e.extnamespace = n.oid)
union all
select k.kind, n.nspname, c.relname, format('DROP %s IF EXISTS %I.%I CASCADE', k.kind, n.nspname, c.relname), k.rank
  from pg_class c
  join ns n on n.oid = c.relnamespace
  join (values ('v', 'VIEW', 1), ('m', 'MATERIALIZED VIEW', 1), ('r', 'TABLE', 2), ('p', 'TABLE', 2), ('f', 'FOREIGN TABLE', 2), ('S', 'SEQUENCE', 3)) as k(relkind, kind, rank)
    on k.relkind = c.relkind::text
  where not exists (select 1 from ext where ext.classid = 'pg_class'::regclass and ext.objid = c.oid)
    and not (c.relkind = 'S' and exists (
      select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')))
union all
select case p.prokind when 'p' then 'PROCEDURE' when 'a' then 'AGGREGATE' else 'FUNCTION' end, n.nspname,
       p.proname || '(' || oidvectortypes(p.proargtypes) || ')',
       format('DROP ROUTINE IF EXISTS %I.%I(%s) CASCADE', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), 4
  from pg_proc p
  join ns n on n.oid = p.pronamespace
  where not exists (select 1 from ext where ext.classid = 'pg_proc'::regclass and ext.objid = p.oid)
union all
select case t.typtype when 'd' then 'DOMAIN' else 'TYPE' end, n.nspname, t.typname,
       format('DROP %s IF EXISTS %I.%I CASCADE', case t.typtype when 'd' then 'DOMAIN' else 'TYPE' end, n.nspname, t.typname), 5
  from pg_type t
  join ns n on n.oid = t.typnamespace
  where (t.typtype in ('e', 'r', 'd') or (t.typtype = 'c' and exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind = 'c')))
    and not exists (select 1 from ext where ext.classid = 'pg_type'::regclass and ext.objid = t.oid)
order by 5, 2, 3`;

/** Every user object of the database, as `pg_restore --list` would name it. */
export async function userObjects(client: pg.Client): Promise<CatalogObject[]> {
  // Types in routine signatures are then schema-qualified exactly as pg_dump writes them.
  await client.query('set search_path = pg_catalog');
  return (await client.query<CatalogObject>(USER_OBJECTS_SQL)).rows;
}

/** Schema and data fingerprint of the database (used by tests to prove a restore is faithful). */
export async function contentChecksum(client: pg.Client): Promise<ContentChecksum> {
  const objects = (await userObjects(client)).map(describeObject).sort();
  const columns = await client.query<{ md5: string }>(
    `select md5(coalesce(string_agg(concat_ws(' ', table_schema, table_name, ordinal_position, column_name, data_type, udt_schema, udt_name, is_nullable, column_default), E'\\n'
       order by table_schema, table_name, ordinal_position), '')) as md5
     from information_schema.columns where table_schema not in ('pg_catalog', 'information_schema')`,
  );
  const tableRows = await client.query<{ table_schema: string; table_name: string }>(
    `select table_schema, table_name from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`,
  );
  const tables: Record<string, string> = {};
  for (const t of tableRows.rows) {
    const rel = `${client.escapeIdentifier(t.table_schema)}.${client.escapeIdentifier(t.table_name)}`;
    const r = await client.query<{ md5: string }>(`select md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) as md5 from ${rel} x`);
    tables[`${t.table_schema}.${t.table_name}`] = r.rows[0]!.md5;
  }
  return { objects, columns: columns.rows[0]!.md5, tables };
}
