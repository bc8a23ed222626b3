// custody verify: the deploy-side check. Two modes:
//  --layout   in-toto v0.9: layout signatures and expiry, links per step, artifact rules,
//             inspections (run here, like in-toto-verify);
//  --policy   an attestation policy with CEL rules over any predicate (verify-policy.ts).
// Reading files and running inspections happen here; the verification itself is pure (policy/).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { InputError, VerificationError, parseJson } from '../core/index.ts';
import {
  formatLikeReference,
  inspectionLinkFileName,
  linkToJson,
  parseSignedLayout,
  parseSignedMetadata,
  type Layout,
  type SignedMetadata,
} from '../formats/index.ts';
import { loadPublicKeyFile } from '../keys/index.ts';
import {
  expectedLinkFiles,
  layoutVerificationError,
  verifyLayout,
  type InspectionRunner,
  type LayoutVerificationReport,
  type RuleEvaluation,
  type StepLinks,
  type SublayoutLinkLoader,
} from '../policy/index.ts';
import { collect, common, parsePositiveInt, printJson, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';
import { addPolicyVerifyOptions, runPolicyVerify, type PolicyVerifyOptions } from './verify-policy.ts';

interface LayoutVerifyOptions extends CommonOptions {
  layout: string;
  layoutKey?: string[];
  layoutThreshold?: number;
  linkDir: string;
  param?: string[];
  referenceTime?: string;
}

type VerifyOptions = LayoutVerifyOptions & Partial<PolicyVerifyOptions>;

function parseParams(params: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new InputError('USAGE', `--param '${p}' must be KEY=VALUE`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Loads the link files a layout names from one directory; absent files are simply missing links. */
function loadLinks(layout: Layout, dir: string): StepLinks {
  const links: Record<string, Record<string, SignedMetadata>> = {};
  for (const { step, keyid, fileName } of expectedLinkFiles(layout)) {
    const path = join(dir, fileName);
    if (!existsSync(path)) continue;
    let metadata: SignedMetadata;
    try {
      metadata = parseSignedMetadata(parseJson(readFileOrFail(path, 'link'), path));
    } catch (e) {
      // A link that cannot be read is broken evidence, not a usage error: verification fails.
      throw new VerificationError('VERIFICATION_FAILED', `link ${path} is malformed: ${(e as Error).message}`, { cause: e });
    }
    (links[step] ??= {})[keyid] = metadata;
  }
  return links;
}

/** in-toto-verify's inspection runner: run in the current directory, record '.', leave <name>.link. */
const inspectionRunner: InspectionRunner = {
  async run(inspection) {
    // The recorder (worker pool, tree walk) loads only for layouts that have inspections.
    const { runStep } = await import('../attest/index.ts');
    const { link } = await runStep({ name: inspection.name, materials: ['.'], products: ['.'], command: inspection.run, record: {}, recordStreams: true });
    writeFileAtomic(inspectionLinkFileName(inspection.name), formatLikeReference({ signatures: [], signed: linkToJson(link) }));
    return link;
  },
};

function ruleLines(evaluation: RuleEvaluation | undefined, indent: string): string[] {
  if (evaluation === undefined) return [];
  return evaluation.outcomes.map((o) => {
    const failed = o.failures.length > 0;
    const detail = failed ? `: ${o.failures.map((f) => `${f.artifact ?? ''} ${f.message}`.trim()).join('; ')}` : o.consumed.length > 0 ? ` (${o.consumed.length} artifact${o.consumed.length === 1 ? '' : 's'})` : '';
    return `${indent}${failed ? 'FAIL' : 'ok  '} ${evaluation.sourceType} ${o.text}${detail}`;
  });
}

export function humanLayoutReport(report: LayoutVerificationReport, file: string): string[] {
  const lines = [`layout ${file}: signatures ${report.layoutSignatures.filter((s) => s.status === 'valid').length}/${report.layoutThreshold} required valid, expires ${report.expires}${report.expired ? ' (EXPIRED)' : ''}`];
  for (const step of report.steps) {
    const signers = step.links.filter((l) => l.status === 'verified').map((l) => l.keyid.slice(0, 8));
    const other = step.links.filter((l) => l.status !== 'verified').map((l) => `${l.keyid.slice(0, 8)} ${l.status}`);
    lines.push(`${step.passed ? 'ok  ' : 'FAIL'} step ${step.name}: ${step.verifiedFunctionaries}/${step.threshold} functionaries${signers.length > 0 ? ` (${signers.join(', ')})` : ''}${other.length > 0 ? `; ${other.join(', ')}` : ''}`);
    lines.push(...ruleLines(step.materialRules, '       '), ...ruleLines(step.productRules, '       '));
  }
  for (const inspection of report.inspections) {
    lines.push(`${inspection.passed ? 'ok  ' : inspection.status === 'skipped' ? 'skip' : 'FAIL'} inspection ${inspection.name}: ${inspection.run.join(' ')}`);
    lines.push(...ruleLines(inspection.materialRules, '       '), ...ruleLines(inspection.productRules, '       '));
  }
  for (const w of report.warnings) lines.push(`warning [${w.code}]${w.item === undefined ? '' : ` ${w.item}`}: ${w.message}`);
  if (report.failures.length > 0) {
    lines.push(`${report.failures.length} failure(s):`);
    for (const f of report.failures) {
      const where = [f.item, f.rule === undefined ? undefined : `rule '${f.rule}'`, f.artifact === undefined ? undefined : `artifact '${f.artifact}'`].filter((x) => x !== undefined).join(', ');
      lines.push(`  [${f.code}] ${where === '' ? '' : `${where}: `}${f.message}`);
    }
  }
  lines.push(report.passed ? 'PASSED' : 'FAILED');
  return lines;
}

async function verifyWithLayout(options: LayoutVerifyOptions): Promise<void> {
  const keys = (options.layoutKey ?? []).map((k) => loadPublicKeyFile(k));
  if (keys.length === 0) throw new InputError('USAGE', '--layout needs at least one --layout-key (the project owner\'s public key)');
  if (!existsSync(options.linkDir) || !statSync(options.linkDir).isDirectory()) {
    throw new InputError('FILE_UNREADABLE', `link directory ${options.linkDir} does not exist`);
  }
  const layout = parseSignedLayout(parseJson(readFileOrFail(options.layout, 'layout'), `layout ${options.layout}`));
  const referenceTime = options.referenceTime === undefined ? new Date() : new Date(options.referenceTime);
  if (Number.isNaN(referenceTime.getTime())) throw new InputError('USAGE', `--reference-time '${options.referenceTime}' is not a date`);
  const loadSublayoutLinks: SublayoutLinkLoader = ({ path, layout: sublayout }) =>
    Promise.resolve(loadLinks(sublayout, join(options.linkDir, ...path.map((p) => p.dirName))));
  const report = await verifyLayout({
    layout,
    layoutKeys: keys,
    ...(options.layoutThreshold === undefined ? {} : { layoutThreshold: options.layoutThreshold }),
    links: loadLinks(layout.signed, options.linkDir),
    ...(options.param === undefined ? {} : { parameters: parseParams(options.param) }),
    referenceTime,
    inspectionRunner,
    loadSublayoutLinks,
  });
  if (options.json === true) printJson(report);
  else process.stdout.write(`${humanLayoutReport(report, options.layout).join('\n')}\n`);
  const error = layoutVerificationError(report);
  if (error !== undefined) throw error;
}

async function verify(options: VerifyOptions): Promise<void> {
  const layoutMode = options.layout !== undefined;
  const policyMode = options.policy !== undefined;
  if (layoutMode === policyMode) throw new InputError('USAGE', 'give either --layout (in-toto v0.9) or --policy (attestation policy)');
  if (layoutMode) {
    await verifyWithLayout(options);
    return;
  }
  if (options.subject === undefined) throw new InputError('USAGE', '--policy needs --subject FILE (the artifact under verification)');
  await runPolicyVerify(options as PolicyVerifyOptions);
}

export function verifyCommand(): Command {
  const command = new Command('verify')
    .description('verify an artifact\'s supply chain: an in-toto v0.9 layout with its links (--layout), or an attestation policy (--policy)')
    .addOption(new Option('--layout <file>', 'in-toto v0.9 layout (signed)'))
    .addOption(new Option('--layout-key <file>', 'project owner public key; repeat for several').argParser(collect))
    .addOption(new Option('--layout-threshold <n>', 'distinct owner keys that must have signed the layout (default: all given)').argParser(parsePositiveInt))
    .addOption(new Option('--link-dir <dir>', 'directory holding the link files').default('.'))
    .addOption(new Option('--param <key=value>', 'layout parameter substitution; repeat for several').argParser(collect))
    .addOption(new Option('--reference-time <time>', 'check the layout expiry against this time instead of now'));
  addPolicyVerifyOptions(command);
  return common(
    command.action((o: VerifyOptions) => verify(o)),
    'custody verify --layout root.layout --layout-key owner.pub --link-dir links/',
    'custody verify --policy policy.json --policy-key owner.pub --subject dist/app.tgz --attestations att/',
    'custody verify --policy policy.json --policy-key owner.pub --subject dist/app.tgz --attestations att/ --trusted-root custody_root.json --vsa-keyless --step verify --vsa-out app.vsa.sigstore',
  );
}
