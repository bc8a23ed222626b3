// custody signer key create|list|rotate|revoke: the signing service's key lifecycle, run by an
// operator on the server machine against the configured key backend (signing.backend of the
// server config; secrets from the environment variables it names).
import { Command, Option } from 'commander';
import { InputError, KEY_TYPES, type KeyType } from '../core/index.ts';
import type { KeyBackend, KeyInfo } from '../keys/index.ts';
import { FileKeyBackend } from '../keys/index.ts';
import { loadConfig, openKeyBackend } from '../server/index.ts';
import { common, output, type CommonOptions } from './io.ts';

interface BackendOptions extends CommonOptions {
  config?: string;
  dir?: string;
  passphraseEnv: string;
}

function backendOf(o: BackendOptions): KeyBackend {
  if ((o.config === undefined) === (o.dir === undefined)) throw new InputError('USAGE', 'pass --config SERVER_CONFIG or --dir KEY_DIR');
  if (o.dir !== undefined) {
    const passphrase = process.env[o.passphraseEnv];
    if (passphrase === undefined || passphrase === '') throw new InputError('KEY_PASSPHRASE_REQUIRED', `set ${o.passphraseEnv} to the key passphrase`);
    return new FileKeyBackend({ dir: o.dir, passphrase });
  }
  return openKeyBackend(loadConfig(o.config!).signing);
}

function line(k: KeyInfo): string {
  return `${k.name}\t${k.type}\t${k.keyid.slice(0, 16)}…\t${k.backend}\t${k.revokedAt === undefined ? 'active' : `revoked ${k.revokedAt}`}`;
}

async function withBackend<T>(o: BackendOptions, fn: (b: KeyBackend) => Promise<T>): Promise<T> {
  const backend = backendOf(o);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

function withBackendOptions(command: Command): Command {
  return command
    .option('--config <file>', 'server config: use its signing.backend')
    .option('--dir <dir>', 'a directory of encrypted key files (instead of --config)')
    .option('--passphrase-env <var>', 'with --dir: variable holding the passphrase', 'CUSTODY_KEY_PASSPHRASE');
}

export function signerCommand(): Command {
  const key = new Command('key').description('signing keys: create, list, rotate, revoke');
  key.addCommand(
    common(
      withBackendOptions(
        new Command('create')
          .description('generate a key inside the backend (never exported)')
          .argument('<name>')
          .addOption(new Option('--type <type>', 'key type').choices([...KEY_TYPES]).default('ecdsa-p256')),
      ).action((name: string, o: BackendOptions & { type: KeyType }) =>
        withBackend(o, async (b) => {
          const info = await b.create({ name, type: o.type });
          output(o, info, [`created ${info.name} (${info.type}, ${info.backend}) key id ${info.keyid}`, info.publicKeyPem.trimEnd()]);
        }),
      ),
      'custody signer key create release --type ecdsa-p256 --config custody-server.yaml',
    ),
  );
  key.addCommand(
    common(withBackendOptions(new Command('list').description('list keys with their state'))).action((o: BackendOptions) =>
      withBackend(o, async (b) => {
        const keys = await b.list();
        output(o, { keys }, keys.length === 0 ? ['no keys'] : keys.map(line));
      }),
    ),
  );
  key.addCommand(
    common(
      withBackendOptions(
        new Command('rotate')
          .description('create NEW of the same type and revoke NAME (point the config and grants at NEW)')
          .argument('<name>')
          .requiredOption('--to <new>', 'name of the replacement key'),
      ).action((name: string, o: BackendOptions & { to: string }) =>
        withBackend(o, async (b) => {
          const old = await b.info(name);
          const created = await b.create({ name: o.to, type: old.type });
          const revoked = await b.revoke(name);
          output(o, { created, revoked }, [`created ${created.name} key id ${created.keyid}`, `revoked ${revoked.name} at ${revoked.revokedAt ?? ''}`]);
        }),
      ),
      'custody signer key rotate release-2026 --to release-2027 --config custody-server.yaml',
    ),
  );
  key.addCommand(
    common(
      withBackendOptions(new Command('revoke').description('revoke a key for good (published at GET /v1/revocations)').argument('<name>')).action(
        (name: string, o: BackendOptions) =>
          withBackend(o, async (b) => {
            const info = await b.revoke(name);
            output(o, info, `revoked ${info.name} at ${info.revokedAt ?? ''}`);
          }),
      ),
    ),
  );
  return new Command('signer').description('the signing service: key lifecycle').addCommand(key);
}
