// custody layout create|sign|show: in-toto v0.9 layouts from a friendly YAML description,
// signed by the project owner(s).
import { dirname, isAbsolute, join } from 'node:path';
import { Command } from 'commander';
import YAML from 'yaml';
import { InputError, parseJson, type PrivateKey } from '../core/index.ts';
import {
  addSignature,
  checkSignature,
  formatLikeReference,
  layoutFromSpec,
  metadataToJson,
  parseExpires,
  parseSignedLayout,
  ruleToString,
  type SignedLayout,
} from '../formats/index.ts';
import { loadPrivateKeyFile, loadPublicKeyFile } from '../keys/index.ts';
import { collect, common, output, passphraseFromEnv, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';

interface SignOptions extends CommonOptions {
  key: string[];
  passphraseEnv?: string;
  out?: string;
}

function loadKeys(options: SignOptions): PrivateKey[] {
  const passphrase = passphraseFromEnv(options.passphraseEnv);
  return options.key.map((k) => loadPrivateKeyFile(k, passphrase));
}

async function signAll(layout: SignedLayout, keys: PrivateKey[]): Promise<SignedLayout> {
  let signed = layout;
  for (const key of keys) {
    // One signature per key: re-signing replaces the key's earlier signature.
    signed = { ...signed, signatures: signed.signatures.filter((s) => s.keyid !== key.publicKey.keyid) };
    signed = await addSignature(signed, key.signer());
  }
  return signed;
}

function parseDescription(file: string): unknown {
  const text = readFileOrFail(file, 'layout description').toString('utf8');
  try {
    return YAML.parse(text, { uniqueKeys: true, maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new InputError('LAYOUT_INVALID', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0] ?? ''}`, { cause: e });
  }
}

async function create(file: string, options: SignOptions): Promise<void> {
  const keys = loadKeys(options);
  const base = dirname(file);
  const layout = layoutFromSpec(parseDescription(file), (_name, reference) => loadPublicKeyFile(isAbsolute(reference) ? reference : join(base, reference)));
  const signed = await signAll({ type: 'layout', signed: layout, signatures: [] }, keys);
  const out = options.out ?? 'root.layout';
  writeFileAtomic(out, formatLikeReference(metadataToJson(signed)));
  output(
    options,
    { layout: out, steps: layout.steps.length, inspections: layout.inspect.length, expires: layout.expires, signedBy: signed.signatures.map((s) => s.keyid) },
    `custody layout: wrote ${out} (${layout.steps.length} steps, ${layout.inspect.length} inspections, expires ${layout.expires}), signed by ${signed.signatures.map((s) => s.keyid.slice(0, 8)).join(', ')}`,
  );
}

function loadLayout(file: string): SignedLayout {
  return parseSignedLayout(parseJson(readFileOrFail(file, 'layout'), `layout ${file}`));
}

async function sign(file: string, options: SignOptions): Promise<void> {
  const signed = await signAll(loadLayout(file), loadKeys(options));
  const out = options.out ?? file;
  writeFileAtomic(out, formatLikeReference(metadataToJson(signed)));
  output(options, { layout: out, signatures: signed.signatures.map((s) => s.keyid) }, `custody layout: ${out} now has ${signed.signatures.length} signature(s): ${signed.signatures.map((s) => s.keyid.slice(0, 8)).join(', ')}`);
}

interface ShowOptions extends CommonOptions {
  layoutKey?: string[];
}

function show(file: string, options: ShowOptions): void {
  const metadata = loadLayout(file);
  const layout = metadata.signed;
  const trusted = (options.layoutKey ?? []).map((k) => loadPublicKeyFile(k));
  const signatures = metadata.signatures.map((s) => {
    const key = trusted.find((k) => k.keyid === s.keyid);
    return { keyid: s.keyid, status: key === undefined ? 'unchecked' : checkSignature(metadata, s.keyid, key) };
  });
  const expired = parseExpires(layout.expires).getTime() < Date.now();
  const steps = layout.steps.map((s) => ({
    name: s.name,
    threshold: s.threshold,
    functionaries: [...s.pubkeys],
    expectedCommand: [...s.expectedCommand],
    materials: s.expectedMaterials.map(ruleToString),
    products: s.expectedProducts.map(ruleToString),
  }));
  const inspections = layout.inspect.map((i) => ({ name: i.name, run: [...i.run], materials: i.expectedMaterials.map(ruleToString), products: i.expectedProducts.map(ruleToString) }));
  const lines = [
    `layout ${file}: expires ${layout.expires}${expired ? ' (EXPIRED)' : ''}`,
    ...signatures.map((s) => `  signature ${s.keyid.slice(0, 8)}: ${s.status}`),
    ...steps.flatMap((s) => [
      `  step ${s.name} (threshold ${s.threshold}; functionaries ${s.functionaries.map((k) => k.slice(0, 8)).join(', ')})${s.expectedCommand.length > 0 ? `: ${s.expectedCommand.join(' ')}` : ''}`,
      ...s.materials.map((r) => `    material ${r}`),
      ...s.products.map((r) => `    product  ${r}`),
    ]),
    ...inspections.flatMap((i) => [`  inspection ${i.name}: ${i.run.join(' ')}`, ...i.materials.map((r) => `    material ${r}`), ...i.products.map((r) => `    product  ${r}`)]),
  ];
  if (layout.readme !== '') lines.push(`  readme: ${layout.readme}`);
  output(options, { expires: layout.expires, expired, signatures, keys: Object.keys(layout.keys), steps, inspections, readme: layout.readme }, lines);
}

export function layoutCommand(): Command {
  const layout = new Command('layout').description('create, sign and show in-toto v0.9 layouts');
  common(
    layout
      .command('create')
      .description('translate a layout description (YAML or JSON: functionaries, steps, rules, inspections, expiry) into a signed v0.9 layout')
      .argument('<description>', 'layout description file (see docs/in-toto.md)')
      .requiredOption('-k, --key <file>', 'the project owner\'s private key; repeat for several owners', collect)
      .option('--passphrase-env <var>', 'passphrase of an encrypted owner key')
      .option('-o, --out <file>', 'where to write the layout', 'root.layout')
      .action((file: string, o: SignOptions) => create(file, o)),
    'custody layout create layout.yaml --key owner.key --out root.layout',
  );
  common(
    layout
      .command('sign')
      .description('add (or renew) owner signatures on a layout')
      .argument('<layout>', 'layout file')
      .requiredOption('-k, --key <file>', 'owner private key; repeat for several', collect)
      .option('--passphrase-env <var>', 'passphrase of an encrypted owner key')
      .option('-o, --out <file>', 'write the signed layout here (default: in place)')
      .action((file: string, o: SignOptions) => sign(file, o)),
    'custody layout sign root.layout --key second-owner.key',
  );
  common(
    layout
      .command('show')
      .description('print a layout: expiry, signatures, steps with functionaries and rules, inspections')
      .argument('<layout>', 'layout file')
      .option('--layout-key <file>', 'check the signature of this owner key; repeat for several', collect)
      .action((file: string, o: ShowOptions) => show(file, o)),
    'custody layout show root.layout --layout-key owner.pub',
  );
  return layout;
}
