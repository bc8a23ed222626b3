// A custody server with the keyless CA enabled, listening on 127.0.0.1 (the keyless client speaks
// HTTP): `custody ca init` material in a temp directory (file keys, low scrypt cost), the
// transparency log, and the harness's controllable clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyBackend } from '../../src/keys/index.ts';
import { defaultCaConfig, initCa, type CaIssuerConfig, type ServerConfig } from '../../src/server/index.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';

export const CA_PASSPHRASE = 'ca test passphrase';
const FAST = { N: 1024, r: 8, p: 1 };

export interface CaHarness extends Harness {
  url: string;
  issuer: string;
  caDir: string;
  stop(): Promise<void>;
}

export async function startCaHarness(options: { issuers?: CaIssuerConfig[]; configure?: (config: ServerConfig) => void } = {}): Promise<CaHarness> {
  const caRoot = mkdtempSync(join(tmpdir(), 'custody-ca-'));
  const ca = defaultCaConfig(caRoot);
  ca.enabled = true;
  ca.dir = join(caRoot, 'ca');
  ca.backend = { kind: 'file', dir: join(caRoot, 'ca', 'keys'), passphraseEnv: 'CUSTODY_CA_KEY_PASSPHRASE' };
  ca.issuers = options.issuers ?? [];
  process.env['CUSTODY_CA_KEY_PASSPHRASE'] = CA_PASSPHRASE;
  const backend = new FileKeyBackend({ dir: ca.backend.dir, passphrase: CA_PASSPHRASE, scrypt: FAST });
  await initCa({ config: ca, backend, organization: 'custody-test', rootKeyOut: join(caRoot, 'root.key'), rootPassphrase: 'root pass', now: new Date() });
  await backend.close();
  // The issuer URL is fixed before the port is known: tokens name it, nothing fetches it.
  ca.identity.issuer = 'http://127.0.0.1:8420';
  const h = await startHarness({
    configure: (c) => {
      c.ca = ca;
      options.configure?.(c);
    },
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const address = h.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    ...h,
    url: `http://127.0.0.1:${port}`,
    issuer: 'http://127.0.0.1:8420',
    caDir: ca.dir,
    stop: async () => {
      await h.close();
      rmSync(caRoot, { recursive: true, force: true });
    },
  };
}
