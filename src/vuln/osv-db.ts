// The local OSV index: records in SQLite (node:sqlite), looked up by ecosystem and package name.
// Import keeps the newest `modified` of each id; malformed records are skipped with a warning.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { InputError, isCustodyError } from '../core/index.ts';
import { parseOsvRecord, type OsvRecord } from '../formats/index.ts';
import { affectedByPackage, packageAdvisory, packageIndexKey, type AdvisorySource, type PackageAdvisory } from './match.ts';
import type { MatchEntry } from './range-match.ts';
import { readZip } from './zip-reader.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS advisories (id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn TEXT, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS package_advisories (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL, withdrawn TEXT, entries TEXT NOT NULL, PRIMARY KEY (ecosystem, name, advisory_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS package_advisories_by_advisory ON package_advisories (advisory_id);
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

// One row per (package, advisory) holding the record's `affected` entries for that package (JSON)
// and its withdrawal time, clustered by package (WITHOUT ROWID): a scan reads the rows of the
// packages it looks up, evaluates their ranges, and reads whole records only for the hits.
const MATCH_ROWS = 'SELECT name, advisory_id AS id, withdrawn, entries FROM package_advisories';

/** [name, advisory id, withdrawn, entries] (statements return arrays: cheaper than row objects). */
type MatchRow = [string, string, string | null, string];

export class OsvDatabase implements AdvisorySource {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, OsvRecord>();
  #lookup: ReturnType<DatabaseSync['prepare']> | undefined;
  #prefetched: Map<string, PackageAdvisory[]> | undefined;
  /** Compiled advisories per package key, kept for the connection (dropped on import). */
  readonly #packages = new Map<string, PackageAdvisory[]>();

  constructor(path: string) {
    try {
      this.#db = new DatabaseSync(path);
    } catch (e) {
      throw new InputError('FILE_UNREADABLE', `cannot open vulnerability database ${path}`, { cause: e });
    }
    this.#db.exec('PRAGMA journal_mode = WAL');
    // Reads through a memory map instead of a pread per page: a scan touches thousands of pages.
    this.#db.exec('PRAGMA mmap_size = 1073741824');
    this.#db.exec(SCHEMA);
    if (this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'affected'").get() !== undefined) this.#migrate();
  }

  /** An index written by the first release (an `affected` table of names only): derive the package rows. */
  #migrate(): void {
    this.#db.exec('BEGIN');
    try {
      this.#db.exec('DELETE FROM package_advisories');
      const link = this.#db.prepare('INSERT INTO package_advisories (ecosystem, name, advisory_id, withdrawn, entries) VALUES (?, ?, ?, ?, ?)');
      for (const row of this.#db.prepare('SELECT json FROM advisories').iterate() as Iterable<{ json: string }>) this.#link(link, JSON.parse(row.json) as OsvRecord);
      this.#db.exec('DROP TABLE affected');
      this.#db.exec('COMMIT');
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  #link(link: ReturnType<DatabaseSync['prepare']>, record: OsvRecord): void {
    for (const [key, entries] of affectedByPackage(record)) {
      const nul = key.indexOf('\u0000');
      link.run(key.slice(0, nul), key.slice(nul + 1), record.id, record.withdrawn ?? null, JSON.stringify(entries));
    }
  }

  close(): void {
    this.#db.close();
  }

  /** Imports records from parsed JSON values; returns counts and a warning per skipped record. */
  importRecords(values: Iterable<{ json: unknown; where: string }>, now = new Date()): ImportReport {
    const report: ImportReport = { imported: 0, unchanged: 0, skipped: 0, warnings: [] };
    const existing = this.#db.prepare('SELECT modified FROM advisories WHERE id = ?');
    const upsert = this.#db.prepare('INSERT OR REPLACE INTO advisories (id, modified, withdrawn, json) VALUES (?, ?, ?, ?)');
    const clear = this.#db.prepare('DELETE FROM package_advisories WHERE advisory_id = ?');
    const link = this.#db.prepare('INSERT INTO package_advisories (ecosystem, name, advisory_id, withdrawn, entries) VALUES (?, ?, ?, ?, ?)');
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
        this.#link(link, record);
        this.#cache.delete(record.id);
        this.#prefetched = undefined;
        this.#packages.clear();
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
   * Loads the advisories of many packages with one query per ecosystem (json_each over the
   * names), so a scan of thousands of components does not pay a query per component.
   */
  prefetch(keys: readonly { ecosystem: string; name: string }[]): void {
    const byEco = new Map<string, Set<string>>();
    const prefetched = new Map<string, PackageAdvisory[]>();
    for (const k of keys) {
      const key = packageIndexKey(k.ecosystem, k.name);
      const known = this.#packages.get(key);
      if (known !== undefined) {
        prefetched.set(key, known);
        continue;
      }
      const nul = key.indexOf('\u0000');
      const eco = key.slice(0, nul);
      let names = byEco.get(eco);
      if (names === undefined) byEco.set(eco, (names = new Set()));
      names.add(key.slice(nul + 1));
    }
    const rows = this.#db.prepare(`${MATCH_ROWS} WHERE ecosystem = ? AND name IN (SELECT value FROM json_each(?))`);
    rows.setReturnArrays(true);
    for (const [eco, names] of byEco) {
      for (const name of names) prefetched.set(`${eco}\u0000${name}`, []);
      for (const row of rows.all(eco, JSON.stringify([...names])) as unknown as MatchRow[]) prefetched.get(`${eco}\u0000${row[0]}`)?.push(this.#advisory(row));
      for (const name of names) this.#packages.set(`${eco}\u0000${name}`, prefetched.get(`${eco}\u0000${name}`)!);
    }
    this.#prefetched = prefetched;
  }

  #advisory(row: MatchRow): PackageAdvisory {
    return packageAdvisory(row[1], row[2] ?? undefined, JSON.parse(row[3]) as MatchEntry[]);
  }

  #record(id: string, json: string): OsvRecord {
    let rec = this.#cache.get(id);
    if (rec === undefined) {
      rec = JSON.parse(json) as OsvRecord;
      this.#cache.set(id, rec);
    }
    return rec;
  }

  /** Advisories that name this package (ecosystem with or without ':' suffix, name as published). */
  advisoriesFor(ecosystem: string, name: string): readonly PackageAdvisory[] {
    const key = packageIndexKey(ecosystem, name);
    const pre = this.#prefetched?.get(key) ?? this.#packages.get(key);
    if (pre !== undefined) return pre;
    const nul = key.indexOf('\u0000');
    if (this.#lookup === undefined) {
      this.#lookup = this.#db.prepare(`${MATCH_ROWS} WHERE ecosystem = ? AND name = ?`);
      this.#lookup.setReturnArrays(true);
    }
    const found = (this.#lookup.all(key.slice(0, nul), key.slice(nul + 1)) as unknown as MatchRow[]).map((row) => this.#advisory(row));
    this.#packages.set(key, found);
    return found;
  }

  /** Full records by id (parsed once per connection). */
  records(ids: readonly string[]): ReadonlyMap<string, OsvRecord> {
    const missing = ids.filter((id) => !this.#cache.has(id));
    if (missing.length > 0) {
      for (const row of this.#db.prepare('SELECT id, json FROM advisories WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(missing)) as { id: string; json: string }[]) this.#record(row.id, row.json);
    }
    const out = new Map<string, OsvRecord>();
    for (const id of ids) {
      const r = this.#cache.get(id);
      if (r !== undefined) out.set(id, r);
    }
    return out;
  }

  get(id: string): OsvRecord | undefined {
    const row = this.#db.prepare('SELECT json FROM advisories WHERE id = ?').get(id) as { json: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.json) as OsvRecord);
  }

  status(): DbStatus {
    const one = (sql: string): number => Number((this.#db.prepare(sql).get() as { n: number }).n);
    const ecosystems: Record<string, number> = {};
    for (const r of this.#db.prepare('SELECT ecosystem, COUNT(DISTINCT advisory_id) AS n FROM package_advisories GROUP BY ecosystem ORDER BY ecosystem').all() as { ecosystem: string; n: number }[]) {
      ecosystems[r.ecosystem] = Number(r.n);
    }
    const last = this.#db.prepare("SELECT value FROM meta WHERE key = 'lastImport'").get() as { value: string } | undefined;
    const newest = this.#db.prepare('SELECT MAX(modified) AS m FROM advisories').get() as { m: string | null };
    return {
      advisories: one('SELECT COUNT(*) AS n FROM advisories'),
      withdrawn: one('SELECT COUNT(*) AS n FROM advisories WHERE withdrawn IS NOT NULL'),
      packages: one('SELECT COUNT(*) AS n FROM (SELECT DISTINCT ecosystem, name FROM package_advisories)'),
      ecosystems,
      ...(last !== undefined ? { lastImport: last.value } : {}),
      ...(newest.m !== null ? { newestModified: newest.m } : {}),
    };
  }
}
