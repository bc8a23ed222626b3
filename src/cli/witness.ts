// custody witness serve|key: a C2SP tlog-witness for custody logs (or any C2SP log).
import { resolve } from 'node:path';
import { Command } from 'commander';
import { InputError } from '../core/index.ts';
import { startWitness } from '../server/index.ts';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from '../tlog/index.ts';
import { common, output, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';

interface ServeOptions extends CommonOptions {
  keyFile: string;
  logKey: string[];
  state: string;
  listen: string;
}

function keyText(value: string, what: string): string {
  return /^[^\s+]+\+[0-9a-fA-F]{8}\+[A-Za-z0-9+/=]+$/.test(value) ? value : readFileOrFail(value, what).toString('utf8').trim();
}

async function serve(options: ServeOptions): Promise<void> {
  const key = parseSignerKey(readFileOrFail(options.keyFile, 'witness key').toString('utf8').trim());
  if (key.verifier.algorithm !== 'cosignature/v1') {
    throw new InputError('KEY_INVALID', 'the witness key must be a cosignature/v1 key (custody witness key generate)');
  }
  if (options.logKey.length === 0) throw new InputError('USAGE', 'pass --log-key for each log to witness');
  const logs = options.logKey.map((k) => parseVerifierKey(keyText(k, 'log key')));
  const witness = await startWitness({ key, logs, statePath: resolve(options.state), listen: options.listen });
  output(options, { url: witness.url, verifierKey: key.verifierKey }, [`witness ${key.verifier.name} listening on ${witness.url}`, `verifier key: ${key.verifierKey}`]);
  const stop = (): void => {
    void witness.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await new Promise<never>(() => undefined);
}

interface KeyOptions extends CommonOptions {
  name: string;
  out: string;
}

function keyGenerate(options: KeyOptions): void {
  const { signerKey, verifierKey } = generateNoteKey(options.name, 'cosignature/v1');
  writeFileAtomic(options.out, `${signerKey}\n`, 0o600);
  writeFileAtomic(`${options.out}.pub`, `${verifierKey}\n`);
  output(options, { verifierKey, keyFile: options.out }, verifierKey);
}

export function witnessCommand(): Command {
  const command = new Command('witness').description('C2SP tlog-witness: cosign checkpoints of logs that stay consistent');
  command.addCommand(
    common(
      new Command('serve')
        .description('serve POST /add-checkpoint (tlog-witness), cosigning with tlog-cosignature/v1')
        .requiredOption('--key-file <file>', 'the witness signer key (custody witness key generate)')
        .option('--log-key <key>', "a witnessed log's verifier key or a file with it (repeat)", (v: string, p: string[] = []) => [...p, v], [])
        .requiredOption('--state <file>', 'where the latest cosigned checkpoint per log is kept')
        .option('--listen <host:port>', 'address', '127.0.0.1:8421')
        .action((o: ServeOptions) => serve(o)),
      'custody witness serve --key-file witness.key --log-key log.pub --state witness.json',
    ),
  );
  const key = new Command('key').description('witness keys');
  key.addCommand(
    common(
      new Command('generate')
        .description('generate a cosignature/v1 key pair: signer key to FILE, verifier key to FILE.pub')
        .requiredOption('--name <name>', 'witness name')
        .requiredOption('--out <file>', 'signer key file')
        .action((o: KeyOptions) => keyGenerate(o)),
      'custody witness key generate --name witness.example --out witness.key',
    ),
  );
  command.addCommand(key);
  return command;
}
