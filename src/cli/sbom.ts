// custody sbom [DIR] --format cyclonedx|spdx [--out F] [--attest --key K --subject ARTIFACT]
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { InputError, VerificationError, digestFile, type ResourceDescriptor } from '../core/index.ts';
import { readDirectory, sbomStatement, toCycloneDx, toSpdx, validateCycloneDx, validateSpdx } from '../sbom/index.ts';
import { collect, common, output, passphraseFromEnv, writeFileAtomic, type CommonOptions } from './io.ts';
import { buildTime, signStatement, toolInfo } from './materials-io.ts';

interface SbomOptions extends CommonOptions {
  format: 'cyclonedx' | 'spdx';
  out?: string;
  attest?: boolean;
  key?: string[];
  subject?: string[];
  passphraseEnv?: string;
  validate: boolean;
}

async function sbom(dir: string, options: SbomOptions): Promise<void> {
  if (options.attest === true && (options.key === undefined || options.subject === undefined)) {
    throw new InputError('USAGE', '--attest needs --key and --subject');
  }
  const { inventory, warnings } = readDirectory(dir);
  for (const w of warnings) process.stderr.write(`custody: warning: ${w}\n`);
  const time = buildTime();
  const tool = toolInfo();
  const text =
    options.format === 'spdx'
      ? toSpdx(inventory, { tool, created: time.date })
      : toCycloneDx(inventory, { tool, timestamp: time.date });
  if (options.validate) {
    const issues = options.format === 'spdx' ? validateSpdx(text) : await validateCycloneDx(text);
    if (issues.length > 0) {
      throw new VerificationError('VERIFICATION_FAILED', `generated SBOM failed validation: ${issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    }
  }
  let result = text;
  if (options.attest === true) {
    const subject: ResourceDescriptor[] = [];
    for (const file of options.subject ?? []) subject.push({ name: basename(file), digest: await digestFile(file) });
    result = await signStatement(sbomStatement(subject, options.format, text), options.key ?? [], passphraseFromEnv(options.passphraseEnv));
  }
  if (options.out === undefined) {
    process.stdout.write(result);
    return;
  }
  writeFileAtomic(options.out, result);
  output(
    options,
    { out: options.out, format: options.format, components: inventory.components.length, sources: inventory.sources, attested: options.attest === true },
    `wrote ${options.out}: ${options.format}, ${inventory.components.length} components from ${inventory.sources.join(', ')}${options.attest === true ? ' (signed DSSE envelope)' : ''}`,
  );
}

export function sbomCommand(): Command {
  return common(
    new Command('sbom')
      .description('generate a CycloneDX 1.6 or SPDX 2.3 SBOM from lockfiles (npm, pnpm, yarn, Cargo, Go, Python, dpkg)')
      .argument('[dir]', 'project directory, image root, or a single lockfile', '.')
      .addOption(new Option('--format <format>', 'SBOM format').choices(['cyclonedx', 'spdx']).default('cyclonedx'))
      .option('--out <file>', 'write here (default: stdout)')
      .option('--attest', 'wrap the SBOM in a signed in-toto statement (DSSE)')
      .option('--key <file>', 'private key for --attest; repeat for several', collect)
      .option('--subject <file>', 'artifact the SBOM describes, for --attest; repeat for several', collect)
      .option('--passphrase-env <var>', 'passphrase of an encrypted private key')
      .option('--no-validate', 'skip schema validation of the output')
      .action((dir: string, o: SbomOptions) => sbom(dir, o)),
    'SOURCE_DATE_EPOCH=0 custody sbom . --format cyclonedx --out sbom.cdx.json',
    'custody sbom . --format spdx --attest --key alice.key --subject dist/app.tgz --out sbom.att.json',
  );
}
