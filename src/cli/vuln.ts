// custody vuln db import PATH... | custody vuln db status — the local OSV index (SQLite).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { InputError } from '../core/index.ts';
import { OsvDatabase } from '../vuln/index.ts';
import { common, output, type CommonOptions } from './io.ts';

export const DEFAULT_VULN_DB = '.custody/vuln/osv.sqlite';

interface DbOptions extends CommonOptions {
  db: string;
}

function importPaths(paths: string[], options: DbOptions): void {
  mkdirSync(dirname(options.db), { recursive: true });
  const db = new OsvDatabase(options.db);
  try {
    const report = db.importPaths(paths);
    for (const w of report.warnings) process.stderr.write(`custody: warning: skipped malformed record: ${w}\n`);
    output(
      options,
      { db: options.db, ...report, warnings: report.warnings },
      `imported ${report.imported} record(s) into ${options.db} (${report.unchanged} unchanged, ${report.skipped} skipped)`,
    );
  } finally {
    db.close();
  }
}

function status(options: DbOptions): void {
  if (!existsSync(options.db)) throw new InputError('FILE_UNREADABLE', `no vulnerability database at ${options.db}; run 'custody vuln db import' first`);
  const db = new OsvDatabase(options.db);
  try {
    const s = db.status();
    output(options, { db: options.db, ...s }, [
      `database:   ${options.db}`,
      `advisories: ${s.advisories} (${s.withdrawn} withdrawn)`,
      `packages:   ${s.packages}`,
      `ecosystems: ${Object.entries(s.ecosystems).map(([e, n]) => `${e} ${n}`).join(', ') || '-'}`,
      `imported:   ${s.lastImport ?? 'never'}`,
      `newest:     ${s.newestModified ?? '-'}`,
    ]);
  } finally {
    db.close();
  }
}

export function vulnCommand(): Command {
  const vuln = new Command('vuln').description('manage the local OSV vulnerability database');
  const db = vuln.command('db').description('import OSV records and show the index');
  common(
    db
      .command('import')
      .description('import OSV records: JSON files, directories of them, or OSV per-ecosystem zip exports (malformed records are skipped)')
      .argument('<path...>', 'files, directories or .zip exports')
      .option('--db <file>', 'SQLite database', DEFAULT_VULN_DB)
      .action((paths: string[], o: DbOptions) => importPaths(paths, o)),
    'custody vuln db import ~/osv/npm-all.zip ./extra-advisories/',
  );
  common(
    db
      .command('status')
      .description('count advisories per ecosystem and show when the index was last updated')
      .option('--db <file>', 'SQLite database', DEFAULT_VULN_DB)
      .action((o: DbOptions) => status(o)),
    'custody vuln db status --json',
  );
  return vuln;
}
