// custody record start|stop: a step that is not one command (in-toto-record). `start` records
// materials into a signed, unfinished link in the current directory; `stop` checks that link's
// signature, records products, and writes the finished link.
import { rmSync } from 'node:fs';
import { Command } from 'commander';
import { VerificationError, parseJson } from '../core/index.ts';
import {
  addSignature,
  checkSignature,
  formatLikeReference,
  makeLink,
  metadataToJson,
  parseSignedLink,
  unfinishedLinkFileName,
  type SignedLink,
} from '../formats/index.ts';
import { progressReporter, recordArtifacts } from '../attest/index.ts';
import { collect, common, output, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';
import { addArtifactFlags, loadSigningKey, recordOptionsFrom, writeSignedLink, type ArtifactFlags, type KeyFlags } from './step-options.ts';

interface StartOptions extends CommonOptions, ArtifactFlags, KeyFlags {
  step: string;
  materials?: string[];
}

interface StopOptions extends CommonOptions, ArtifactFlags, KeyFlags {
  step: string;
  products?: string[];
  out: string;
  dsse?: boolean;
}

async function start(options: StartOptions): Promise<void> {
  const key = loadSigningKey(options);
  const signer = key.signer();
  const materials = await recordArtifacts(options.materials ?? [], recordOptionsFrom(options, options.json === true ? undefined : progressReporter()));
  const unsigned: SignedLink = { type: 'link', signed: makeLink({ name: options.step, materials }), signatures: [] };
  const signed = await addSignature(unsigned, signer);
  const path = unfinishedLinkFileName(options.step, signer.keyid);
  writeFileAtomic(path, formatLikeReference(metadataToJson(signed)));
  output(options, { unfinished: path, step: options.step, materials: Object.keys(materials).length }, `custody record: started '${options.step}' (${Object.keys(materials).length} materials) in ${path}`);
}

async function stop(options: StopOptions): Promise<void> {
  const key = loadSigningKey(options);
  const path = unfinishedLinkFileName(options.step, key.publicKey.keyid);
  const unfinished = parseSignedLink(parseJson(readFileOrFail(path, 'unfinished link (run "custody record start" first)'), path));
  // in-toto_record_stop: the preliminary link must carry a valid signature by the same key.
  const check = checkSignature(unfinished, key.publicKey.keyid, key.publicKey);
  if (check !== 'valid') {
    throw new VerificationError('SIGNATURE_INVALID', `${path}: the unfinished link's signature by ${key.publicKey.keyid.slice(0, 8)} is ${check}; it was changed or made with another key`);
  }
  if (unfinished.signed.name !== options.step) {
    throw new VerificationError('VERIFICATION_FAILED', `${path} records step '${unfinished.signed.name}', not '${options.step}'`);
  }
  const products = await recordArtifacts(options.products ?? [], recordOptionsFrom(options, options.json === true ? undefined : progressReporter()));
  const link = makeLink({ ...unfinished.signed, products });
  const written = await writeSignedLink(link, key, options.out, options.dsse === true);
  rmSync(path, { force: true });
  output(options, { link: written, step: link.name, materials: Object.keys(link.materials).length, products: Object.keys(products).length }, `custody record: wrote ${written} (${Object.keys(link.materials).length} materials, ${Object.keys(products).length} products)`);
}

export function recordCommand(): Command {
  const record = new Command('record').description('record a step that is not a single command: start before, stop after (in-toto-record)');
  const keyFlags = (c: Command): Command =>
    c
      .requiredOption('-n, --step <name>', 'step name (as in the layout)')
      .requiredOption('-k, --key <file>', 'private key that signs the link')
      .option('--passphrase-env <var>', 'passphrase of an encrypted private key');
  common(
    addArtifactFlags(keyFlags(record.command('start').description('record materials into a signed .<step>.<keyid8>.link-unfinished in the current directory')))
      .option('-m, --materials <path>', 'file or directory to record; repeat for several', collect)
      .action((o: StartOptions) => start(o)),
    'custody record start --step review --key alice.key -m src',
  );
  common(
    addArtifactFlags(keyFlags(record.command('stop').description('record products and write the finished, signed <step>.<keyid8>.link')))
      .option('-p, --products <path>', 'file or directory to record; repeat for several', collect)
      .option('-d, --out <dir>', 'directory to write the link to', '.')
      .option('--dsse', 'write a DSSE envelope of a link v0.3 statement instead of a v0.9 link')
      .action((o: StopOptions) => stop(o)),
    'custody record stop --step review --key alice.key -p src',
  );
  return record;
}
