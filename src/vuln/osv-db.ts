// The local OSV index: records in SQLite (node:sqlite), looked up by ecosystem and package name.
// Import keeps the newest `modified` of each id; malformed records are skipped with a warning.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { InputError, isCustodyError } from '../core/index.ts';
import { parseOsvRecord, type OsvRecord } from '../formats/index.ts';
import { indexName } from './ecosystems.ts';
import { readZip } from './zip-reader.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS advisories (id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn TEXT, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_by_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export interface ImportReport {
  imported: number;
  unchanged: number;
  skipped: number;
  warnings: string[];
}

export interface DbStatus {
  advisories: number;
  withdrawn: number;
  packages: number;
  ecosystems: Record<string, number>;
  lastImport?: string;
  newestModified?: string;
}

export class OsvDatabase {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, OsvRecord>();
  #lookup: ReturnType<DatabaseSync['prepare']> | undefined;
  #prefetched: Map<string, OsvRecord[]> | undefined;

  constructor(path: string) {
    try {
      this.#db = new DatabaseSync(path);
    } catch (e) {
      throw new InputError('FILE_UNREADABLE', `cannot open vulnerability database ${path}`, { cause: e });
    }
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec(SCHEMA);
  }

  close(): void {
    this.#db.close();
  }

  /** Imports records from parsed JSON values; returns counts and a warning per skipped record. */
  importRecords(values: Iterable<{ json: unknown; where: string }>, now = new Date()): ImportReport {
    const report: ImportReport = { imported: 0, unchanged: 0, skipped: 0, warnings: [] };
    const existing = this.#db.prepare('SELECT modified FROM advisories WHERE id = ?');
    const upsert = this.#db.prepare('INSERT OR REPLACE INTO advisories (id, modified, withdrawn, json) VALUES (?, ?, ?, ?)');
    const clear = this.#db.prepare('DELETE FROM affected WHERE advisory_id = ?');
    const link = this.#db.prepare('INSERT INTO affected (ecosystem, name, advisory_id) VALUES (?, ?, ?)');
    this.#db.exec('BEGIN');
    try {
      for (const { json, where } of values) {
        let record: OsvRecord;
        try {
          record = parseOsvRecord(json, where);
        } catch (e) {
          if (!isCustodyError(e)) throw e;
          report.skipped++;
          report.warnings.push(e.message);
          continue;
        }
        const row = existing.get(record.id) as { modified: string } | undefined;
        if (row !== undefined && row.modified >= record.modified) {
          report.unchanged++;
          continue;
        }
        upsert.run(record.id, record.modified, record.withdrawn ?? null, JSON.stringify(record));
        clear.run(record.id);
        const seen = new Set<string>();
        for (const a of record.affected) {
          if (a.package === undefined) continue;
          const eco = a.package.ecosystem.split(':')[0]!;
          const key = `${eco}\u0000${indexName(eco, a.package.name)}`;
          if (seen.has(key)) continue;
          seen.add(key);
          link.run(eco, indexName(eco, a.package.name), record.id);
        }
        this.#cache.delete(record.id);
        this.#prefetched = undefined;
        report.imported++;
      }
      this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run('lastImport', now.toISOString());
      this.#db.exec('COMMIT');
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
    return report;
  }

  /** Imports OSV JSON files, directories of them (recursively) and OSV zip exports. */
  importPaths(paths: string[]): ImportReport {
    const values: { json: unknown; where: string }[] = [];
    const warnings: string[] = [];
    const addText = (text: string, where: string): void => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        warnings.push(`${where}: not JSON; skipped`);
        return;
      }
      if (Array.isArray(json)) json.forEach((j, i) => values.push({ json: j, where: `${where}[${i}]` }));
      else values.push({ json, where });
    };
    const visit = (path: string): void => {
      let st;
      try {
        st = statSync(path);
      } catch (e) {
        throw new InputError('FILE_UNREADABLE', `cannot read ${path}`, { cause: e });
      }
      if (st.isDirectory()) {
        for (const name of readdirSync(path).sort()) {
          if (name.endsWith('.json') || name.endsWith('.zip') || statSync(join(path, name)).isDirectory()) visit(join(path, name));
        }
      } else if (path.endsWith('.zip')) {
        for (const entry of readZip(readFileSync(path), path)) if (entry.name.endsWith('.json')) addText(entry.data().toString('utf8'), `${path}:${entry.name}`);
      } else {
        addText(readFileSync(path, 'utf8'), path);
      }
    };
    for (const p of paths) visit(p);
    const report = this.importRecords(values);
    report.skipped += warnings.length;
    report.warnings.unshift(...warnings);
    return report;
  }

  /**
   * Loads the records of many packages with one query per ecosystem (json_each over the names),
   * so a scan of thousands of components does not pay a query per component.
   */
  prefetch(keys: readonly { ecosystem: string; name: string }[]): void {
    const byEco = new Map<string, Set<string>>();
    for (const k of keys) {
      const eco = k.ecosystem.split(':')[0]!;
      if (!byEco.has(eco)) byEco.set(eco, new Set());
      byEco.get(eco)!.add(indexName(eco, k.name));
    }
    this.#prefetched = new Map();
    // Two steps: the (index-only) id lookup, then the JSON of the records not parsed yet.
    const ids = this.#db.prepare('SELECT name, advisory_id AS id FROM affected WHERE ecosystem = ? AND name IN (SELECT value FROM json_each(?))');
    const bodies = this.#db.prepare('SELECT id, json FROM advisories WHERE id IN (SELECT value FROM json_each(?))');
    const pairs: { key: string; id: string }[] = [];
    for (const [eco, names] of byEco) {
      for (const name of names) this.#prefetched.set(`${eco}\u0000${name}`, []);
      for (const row of ids.all(eco, JSON.stringify([...names])) as { name: string; id: string }[]) pairs.push({ key: `${eco}\u0000${row.name}`, id: row.id });
    }
    const missing = [...new Set(pairs.map((p) => p.id).filter((id) => !this.#cache.has(id)))];
    for (const row of bodies.all(JSON.stringify(missing)) as { id: string; json: string }[]) this.#record(row.id, row.json);
    for (const { key, id } of pairs) {
      const rec = this.#cache.get(id);
      if (rec !== undefined) this.#prefetched.get(key)?.push(rec);
    }
  }

  #record(id: string, json: string): OsvRecord {
    let rec = this.#cache.get(id);
    if (rec === undefined) {
      rec = JSON.parse(json) as OsvRecord;
      this.#cache.set(id, rec);
    }
    return rec;
  }

  /** Records that name this package (ecosystem without ':' suffix, name as published). */
  candidates(ecosystem: string, name: string): OsvRecord[] {
    const eco = ecosystem.split(':')[0]!;
    const pre = this.#prefetched?.get(`${eco}\u0000${indexName(eco, name)}`);
    if (pre !== undefined) return pre;
    this.#lookup ??= this.#db.prepare('SELECT a.id AS id, a.json AS json FROM affected f JOIN advisories a ON a.id = f.advisory_id WHERE f.ecosystem = ? AND f.name = ?');
    const rows = this.#lookup.all(eco, indexName(eco, name)) as { id: string; json: string }[];
    return rows.map((r) => this.#record(r.id, r.json));
  }

  get(id: string): OsvRecord | undefined {
    const row = this.#db.prepare('SELECT json FROM advisories WHERE id = ?').get(id) as { json: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.json) as OsvRecord);
  }

  status(): DbStatus {
    const one = (sql: string): number => Number((this.#db.prepare(sql).get() as { n: number }).n);
    const ecosystems: Record<string, number> = {};
    for (const r of this.#db.prepare('SELECT ecosystem, COUNT(DISTINCT advisory_id) AS n FROM affected GROUP BY ecosystem ORDER BY ecosystem').all() as { ecosystem: string; n: number }[]) {
      ecosystems[r.ecosystem] = Number(r.n);
    }
    const last = this.#db.prepare("SELECT value FROM meta WHERE key = 'lastImport'").get() as { value: string } | undefined;
    const newest = this.#db.prepare('SELECT MAX(modified) AS m FROM advisories').get() as { m: string | null };
    return {
      advisories: one('SELECT COUNT(*) AS n FROM advisories'),
      withdrawn: one('SELECT COUNT(*) AS n FROM advisories WHERE withdrawn IS NOT NULL'),
      packages: one('SELECT COUNT(*) AS n FROM (SELECT DISTINCT ecosystem, name FROM affected)'),
      ecosystems,
      ...(last !== undefined ? { lastImport: last.value } : {}),
      ...(newest.m !== null ? { newestModified: newest.m } : {}),
    };
  }
}
