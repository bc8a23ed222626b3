// custody vex create|add|show — OpenVEX 0.2.0 documents.
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { InputError } from '../core/index.ts';
import { addVexStatement, createVexDocument, parseVexDocument, type StatementInput } from '../vuln/index.ts';
import { collect, common, output, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';
import { buildTime } from './materials-io.ts';

interface StatementOptions extends CommonOptions {
  vuln: string;
  alias?: string[];
  product: string[];
  subcomponent?: string[];
  status: string;
  justification?: string;
  impact?: string;
  action?: string;
}

function statementInput(options: StatementOptions): StatementInput {
  return {
    vulnerability: options.vuln,
    products: options.product,
    status: options.status,
    timestamp: buildTime().date,
    ...(options.alias !== undefined ? { aliases: options.alias } : {}),
    ...(options.subcomponent !== undefined ? { subcomponents: options.subcomponent } : {}),
    ...(options.justification !== undefined ? { justification: options.justification } : {}),
    ...(options.impact !== undefined ? { impactStatement: options.impact } : {}),
    ...(options.action !== undefined ? { actionStatement: options.action } : {}),
  };
}

interface CreateOptions extends StatementOptions {
  author: string;
  role?: string;
  id?: string;
  out: string;
  force?: boolean;
}

function create(options: CreateOptions): void {
  if (existsSync(options.out) && options.force !== true) throw new InputError('USAGE', `${options.out} already exists; pass --force to overwrite`);
  const input = statementInput(options);
  const doc = createVexDocument({ author: options.author, timestamp: input.timestamp, ...(options.role !== undefined ? { role: options.role } : {}), ...(options.id !== undefined ? { id: options.id } : {}) }, input);
  writeFileAtomic(options.out, `${JSON.stringify(doc, null, 2)}\n`);
  output(options, { out: options.out, id: doc['@id'] }, `wrote ${options.out} (${doc['@id']}): ${options.status} for ${options.vuln}`);
}

function add(file: string, options: StatementOptions): void {
  const doc = parseVexDocument(readFileOrFail(file, 'VEX document'), file);
  const next = addVexStatement(doc, statementInput(options));
  writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
  output(options, { file, version: next.version, statements: next.statements.length }, `added ${options.status} for ${options.vuln} to ${file} (version ${next.version}, ${next.statements.length} statement(s))`);
}

function show(file: string, options: CommonOptions): void {
  const doc = parseVexDocument(readFileOrFail(file, 'VEX document'), file);
  output(options, doc, [
    `${doc['@id']} by ${doc.author}, version ${doc.version}, ${doc.timestamp}`,
    ...doc.statements.map((s) => {
      const products = s.products.map((p) => p['@id'] ?? JSON.stringify(p.identifiers ?? p.hashes)).join(', ');
      const why = s.justification ?? s.impact_statement ?? s.action_statement ?? '';
      return `  ${s.vulnerability.name}  ${s.status}${why !== '' ? ` (${why})` : ''}  ${products}`;
    }),
  ]);
}

function statementOptions(command: Command): Command {
  return command
      .requiredOption('--vuln <id>', 'vulnerability id (CVE, GHSA, OSV id)')
      .option('--alias <id>', 'another id of the vulnerability; repeatable', collect)
      .requiredOption('--product <purl>', 'product the statement is about; repeatable', collect)
      .option('--subcomponent <purl>', 'component of the product that carries the vulnerability; repeatable', collect)
      .requiredOption('--status <status>', 'not_affected, affected, fixed or under_investigation')
      .option('--justification <j>', 'component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist')
      .option('--impact <text>', 'impact statement (not_affected)')
      .option('--action <text>', 'action statement (affected)');
}

export function vexCommand(): Command {
  const vex = new Command('vex').description('write and read OpenVEX 0.2.0 documents');
  common(
    statementOptions(
      vex
        .command('create')
        .description('create an OpenVEX document with its first statement (the format needs at least one)')
        .requiredOption('--author <name>', 'author of the statements')
        .option('--role <role>', 'role of the author')
        .option('--id <iri>', 'document @id (default: derived from author and time)')
        .requiredOption('--out <file>', 'where to write the document')
        .option('--force', 'overwrite an existing file'),
    ).action((o: CreateOptions) => create(o)),
    'custody vex create --author "Security <sec@example.com>" --out app.vex.json --vuln CVE-2024-1234 --product pkg:npm/app@1.0.0 --status under_investigation',
  );
  common(
    statementOptions(
      vex
        .command('add')
        .description('add a statement (not_affected needs --justification or --impact; affected needs --action)')
        .argument('<file>', 'OpenVEX document to amend'),
    ).action((file: string, o: StatementOptions) => add(file, o)),
    'custody vex add app.vex.json --vuln CVE-2024-1234 --product pkg:npm/app@1.0.0 --subcomponent pkg:npm/lodash@4.17.20 --status not_affected --justification vulnerable_code_not_in_execute_path',
  );
  common(
    vex
      .command('show')
      .description('validate and print an OpenVEX document')
      .argument('<file>', 'OpenVEX document')
      .action((file: string, o: CommonOptions) => show(file, o)),
    'custody vex show app.vex.json',
  );
  return vex;
}
