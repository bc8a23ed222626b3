// custody scan secrets [PATH...|--staged|--history]: the `secrets` subcommand of `custody scan`.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InputError } from '../core/index.ts';
import {
  DEFAULT_MAX_BYTES,
  EMPTY_ALLOWLIST,
  GitRepo,
  SECRET_RULES,
  mergeAllowlists,
  parseSecretsConfig,
  scanHistory,
  scanPaths,
  scanStaged,
  secretsToSarif,
  type ScanReport,
  type SecretAllowlist,
} from '../source/index.ts';
import { collect, common, output, parsePositiveInt, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';

const DEFAULT_CONFIG = '.custody/secrets.yaml';

interface SecretsOptions extends CommonOptions {
  staged?: boolean;
  history?: boolean;
  range?: string;
  repo: string;
  config?: string;
  allowPath?: string[];
  format: string;
  out?: string;
  maxBytes?: number;
}

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function loadAllowlist(options: SecretsOptions): SecretAllowlist {
  let allow = EMPTY_ALLOWLIST;
  const configPath = options.config ?? (existsSync(resolve(options.repo, DEFAULT_CONFIG)) ? resolve(options.repo, DEFAULT_CONFIG) : undefined);
  if (configPath !== undefined) allow = parseSecretsConfig(readFileOrFail(configPath, 'secrets config').toString('utf8'));
  if (options.allowPath !== undefined) allow = mergeAllowlists(allow, { paths: options.allowPath });
  return allow;
}

function scan(paths: string[], options: SecretsOptions): void {
  const modes = [paths.length > 0, options.staged === true, options.history === true].filter(Boolean).length;
  if (modes > 1) throw new InputError('USAGE', 'give paths, --staged or --history, not several');
  if (options.range !== undefined && options.history !== true) throw new InputError('USAGE', '--range goes with --history');
  const scanOptions = { allow: loadAllowlist(options), maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES };
  let report: ScanReport;
  if (options.staged === true) report = scanStaged(new GitRepo(options.repo), scanOptions);
  else if (options.history === true) report = scanHistory(new GitRepo(options.repo), { ...scanOptions, ...(options.range === undefined ? {} : { range: options.range }) });
  else {
    const targets = paths.length > 0 ? paths : [options.repo];
    report = scanPaths(targets.map((p) => resolve(p)), resolve(options.repo), scanOptions);
  }
  let body: string;
  if (options.format === 'sarif') body = JSON.stringify(secretsToSarif(report.findings, version()), null, 2);
  else if (options.format === 'json' || options.json === true) body = JSON.stringify(report, null, 2);
  else {
    body = [
      ...report.findings.map((f) => `${f.path}:${f.line}:${f.column}: ${f.ruleId}: ${f.description} (${f.redacted}) [${f.fingerprint}]`),
      `${report.findings.length} secret(s) in ${report.filesScanned} file(s) (${report.skipped} skipped: binary or over ${scanOptions.maxBytes} bytes)`,
    ].join('\n');
  }
  if (options.out !== undefined) {
    writeFileAtomic(options.out, `${body}\n`);
    output({}, null, `${report.findings.length} secret(s); report written to ${options.out}`);
  } else process.stdout.write(`${body}\n`);
  if (report.findings.length > 0) process.exitCode = 1;
}

/** The `secrets` subcommand; the lead attaches it under `custody scan`. */
export function scanSecretsCommand(): Command {
  return common(
    new Command('secrets')
      .description(`find committed secrets: private keys, cloud and VCS tokens, high-entropy assignments (${SECRET_RULES.length} rules; see docs/source.md)`)
      .argument('[paths...]', 'files or directories to scan (default: --repo)')
      .option('--staged', "scan what git would commit (the index), as the pre-commit hook does")
      .option('--history', 'scan every blob in the history of all refs')
      .option('--range <revs>', 'with --history: only the objects of these revisions (e.g. origin/main..HEAD)')
      .option('--repo <dir>', 'repository or base directory', '.')
      .option('--config <file>', `allowlists and disabled rules (default ${DEFAULT_CONFIG} when present)`)
      .option('--allow-path <pattern>', 'gitignore-style path pattern not to scan (repeatable)', collect)
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
      .option('--out <file>', 'write the report to a file')
      .option('--max-bytes <n>', 'skip files larger than this', parsePositiveInt)
      .action((paths: string[], o: SecretsOptions) => scan(paths, o)),
    'custody scan secrets src/ config/',
    'custody scan secrets --staged',
    'custody scan secrets --history --format sarif --out secrets.sarif',
  );
}
