// custody ca: the keyless certificate authority's offline administration. `ca init` makes the
// root key (written encrypted to --root-key-out, to be moved offline), the intermediate and TSA
// keys inside the configured key backend (file or PKCS#11), their certificates and the
// workload-identity issuer key, in the CA directory of the server config.
import { Command } from 'commander';
import { InputError } from '../core/index.ts';
import { initCa, openCaBackend, resolveServeConfig } from '../server/index.ts';
import { common, output, type CommonOptions } from './io.ts';

interface CaInitOptions extends CommonOptions {
  config?: string;
  data?: string;
  organization: string;
  rootKeyOut: string;
  rootPassphraseEnv: string;
}

async function caInit(o: CaInitOptions): Promise<void> {
  const config = resolveServeConfig({ ...(o.config === undefined ? {} : { config: o.config }), ...(o.data === undefined ? {} : { data: o.data }) });
  if (o.config === undefined) {
    // No config file: the CA lives under the data directory.
    config.ca.dir = `${config.dataDir}/ca`;
    if (config.ca.backend.kind === 'file') config.ca.backend = { ...config.ca.backend, dir: `${config.dataDir}/ca/keys` };
  }
  const passphrase = process.env[o.rootPassphraseEnv];
  if (passphrase === undefined || passphrase.length < 8) throw new InputError('KEY_PASSPHRASE_REQUIRED', `set ${o.rootPassphraseEnv} to the root key passphrase (8 characters or more)`);
  const backend = openCaBackend(config.ca.backend);
  try {
    const r = await initCa({ config: config.ca, backend, organization: o.organization, rootKeyOut: o.rootKeyOut, rootPassphrase: passphrase, now: new Date() });
    output(o, r, [
      `root certificate:         ${r.root}`,
      `intermediate certificate: ${r.intermediate} (key '${config.ca.intermediateKey}' in the ${backend.kind} backend)`,
      `TSA certificate:          ${r.tsa} (key '${config.ca.tsaKey}')`,
      `root key (encrypted):     ${r.rootKey} — move it offline; the server never needs it`,
      `enable with 'ca: { enabled: true }' in the server config`,
    ]);
  } finally {
    await backend.close();
  }
}

export function caCommand(): Command {
  const ca = new Command('ca').description('the keyless certificate authority (Fulcio-compatible) and time-stamp authority');
  ca.addCommand(
    common(
      new Command('init')
        .description('create the CA: offline root, intermediate and TSA keys in the key backend, certificates, identity issuer key')
        .option('--config <file>', 'server config (its ca: section says where and which backend)')
        .option('--data <dir>', 'server data directory (default .custody/server)')
        .option('--organization <name>', 'organization named in the certificates', 'custody')
        .requiredOption('--root-key-out <file>', 'where to write the encrypted root key (keep it offline)')
        .option('--root-passphrase-env <var>', 'environment variable holding the root key passphrase', 'CUSTODY_CA_ROOT_PASSPHRASE')
        .action((o: CaInitOptions) => caInit(o)),
      'CUSTODY_CA_ROOT_PASSPHRASE=… CUSTODY_CA_KEY_PASSPHRASE=… custody ca init --config .custody/server.yaml --root-key-out /media/offline/ca-root.key',
    ),
  );
  return ca;
}
