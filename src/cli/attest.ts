// custody attest: a signed DSSE envelope holding an in-toto Statement v1 about files.
import { basename } from 'node:path';
import { Command } from 'commander';
import {
  IN_TOTO_PAYLOAD_TYPE,
  InputError,
  digestFile,
  makeStatement,
  parseJson,
  signEnvelope,
  type ResourceDescriptor,
} from '../core/index.ts';
import { loadPrivateKeyFile } from '../keys/index.ts';
import { attestKeyless, type KeylessAttestOptions } from './attest-keyless.ts';
import { collect, common, output, passphraseFromEnv, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';

interface AttestOptions extends CommonOptions, KeylessAttestOptions {
  subject: string[];
  type: string;
  predicate: string;
  key?: string[];
  out?: string;
  passphraseEnv?: string;
  keyless?: boolean;
}

async function attest(options: AttestOptions): Promise<void> {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(options.type)) throw new InputError('USAGE', `--type must be a URI (got '${options.type}')`);
  const predicate = parseJson(readFileOrFail(options.predicate, 'predicate'), `predicate ${options.predicate}`);
  if (typeof predicate !== 'object' || predicate === null || Array.isArray(predicate)) {
    throw new InputError('INPUT_INVALID', `predicate ${options.predicate} must be a JSON object`);
  }
  const keys = options.key ?? [];
  if (options.keyless === true && keys.length > 0) throw new InputError('USAGE', '--keyless signs with an ephemeral key: drop --key');
  if (options.keyless !== true && keys.length === 0) throw new InputError('USAGE', 'give --key FILE (repeatable) or --keyless');
  const passphrase = passphraseFromEnv(options.passphraseEnv);
  const signers = keys.map((k) => loadPrivateKeyFile(k, passphrase).signer());
  const subject: ResourceDescriptor[] = [];
  for (const file of options.subject) subject.push({ name: basename(file), digest: await digestFile(file) });
  const statement = makeStatement(subject, options.type, predicate);
  if (options.keyless === true) return attestKeyless(statement, options);
  const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), signers);
  const text = `${JSON.stringify(envelope)}\n`;
  if (options.out !== undefined) {
    writeFileAtomic(options.out, text);
    output(options, { out: options.out, subject, predicateType: options.type, keyids: signers.map((s) => s.keyid) }, `wrote ${options.out}: ${subject.length} subject(s), ${options.type}, signed by ${signers.map((s) => s.keyid.slice(0, 8)).join(', ')}`);
  } else {
    process.stdout.write(text);
  }
}

export function attestCommand(): Command {
  return common(
    new Command('attest')
      .description('sign an in-toto Statement v1 about files as a DSSE envelope')
      .requiredOption('--subject <file>', 'a file the statement is about; repeat for several', collect)
      .requiredOption('--type <uri>', 'predicate type URI')
      .requiredOption('--predicate <file>', 'JSON file holding the predicate object')
      .option('--key <file>', 'private key to sign with; repeat for several signatures', collect)
      .option('--out <file>', 'write the envelope here (default: stdout)')
      .option('--passphrase-env <var>', 'passphrase of an encrypted private key')
      .option('--keyless', 'sign with an ephemeral key certified by the server CA for your workload identity: writes a Sigstore bundle (docs/keyless.md)')
      .option('--server <url>', 'keyless: the custody server (default: $CUSTODY_SERVER)')
      .option('--identity-token <file>', 'keyless: OIDC ID token file (default: $CUSTODY_IDENTITY_TOKEN, else minted for --step)')
      .option('--step <name>', 'keyless: mint an ID token for this pipeline step with $CUSTODY_TOKEN')
      .option('--ttl <duration>', 'keyless: lifetime of a minted ID token', '10m')
      .option('--namespace <ns>', 'keyless: namespace to mint the ID token in')
      .action((o: AttestOptions) => attest(o)),
    'custody attest --subject dist/app.tgz --type https://example.com/test-result/v1 --predicate result.json --key alice.key --out app.att.json',
    'custody attest --subject dist/app.tgz --type https://example.com/test-result/v1 --predicate result.json --keyless --step test --out app.att.sigstore',
  );
}
