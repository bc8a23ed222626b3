// The CA's key material: `custody ca init` makes the root key (returned to be kept offline,
// encrypted), the intermediate and TSA keys inside the key backend (file or PKCS#11), their
// certificates, and the workload-identity issuer's signing key. At start-up the server loads the
// certificates and asks the backend for the two signers; the root key is never needed online.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, generateKeyPair, loadPrivateKeyPem, writeFileAtomic, type PrivateKey } from '../../core/index.ts';
import { FileKeyBackend, Pkcs11KeyBackend, type KeyBackend } from '../../keys/index.ts';
import type { CaBackendConfig, CaConfig } from './ca-config.ts';
import { buildCertificate, distinguishedName, keyIdentifier, parseCertificate, pemCertificates, spkiOf, subjectName, toPem, type CertSigner } from './x509.ts';

export const ROOT_CERT = 'root.pem';
export const INTERMEDIATE_CERT = 'intermediate.pem';
export const TSA_CERT = 'tsa.pem';
export const IDENTITY_KEY = 'identity-issuer.key';

export interface CaMaterial {
  readonly root: Buffer;
  readonly intermediate: Buffer;
  readonly tsa: Buffer;
  readonly intermediateSigner: CertSigner;
  readonly tsaSigner: CertSigner;
  /** ES256 key of the workload-identity issuer. */
  readonly identityKey: PrivateKey;
  readonly backend: KeyBackend;
}

/** Opens the CA's key backend; secrets come from the environment, never the config file. */
export function openCaBackend(b: CaBackendConfig): KeyBackend {
  if (b.kind === 'file') {
    const passphrase = process.env[b.passphraseEnv];
    if (passphrase === undefined || passphrase === '') throw new InputError('KEY_PASSPHRASE_REQUIRED', `ca: set ${b.passphraseEnv} to the CA key passphrase`);
    return new FileKeyBackend({ dir: b.dir, passphrase });
  }
  const pin = process.env[b.pinEnv];
  if (pin === undefined || pin === '') throw new InputError('KEY_PASSPHRASE_REQUIRED', `ca: set ${b.pinEnv} to the token PIN`);
  return new Pkcs11KeyBackend({ library: b.library, tokenLabel: b.tokenLabel, pin, sessions: b.sessions });
}

export function localSigner(key: PrivateKey): CertSigner {
  const s = key.signer();
  return { type: key.type, publicKey: key.publicKey.keyObject, sign: (d) => s.sign(d) };
}

async function backendSigner(backend: KeyBackend, name: string): Promise<CertSigner> {
  const s = await backend.signer(name);
  return { type: s.publicKey.type, publicKey: s.publicKey.keyObject, sign: (d) => s.sign(d) };
}

function readCert(dir: string, file: string): Buffer {
  const path = join(dir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `ca: cannot read ${path} (run 'custody ca init' first): ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  const [der] = pemCertificates(text);
  if (der === undefined) throw new InputError('PEM_INVALID', `ca: ${path} holds no certificate`);
  parseCertificate(der);
  return der;
}

export async function loadCaMaterial(config: CaConfig, backend: KeyBackend = openCaBackend(config.backend)): Promise<CaMaterial> {
  const root = readCert(config.dir, ROOT_CERT);
  const intermediate = readCert(config.dir, INTERMEDIATE_CERT);
  const tsa = readCert(config.dir, TSA_CERT);
  const intermediateSigner = await backendSigner(backend, config.intermediateKey);
  const tsaSigner = await backendSigner(backend, config.tsaKey);
  // The keys in the backend must be the ones the certificates name.
  if (!spkiOf(intermediate).equals(intermediateSigner.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new InputError('KEY_INVALID', `ca: key '${config.intermediateKey}' does not match ${INTERMEDIATE_CERT}`);
  }
  if (!spkiOf(tsa).equals(tsaSigner.publicKey.export({ type: 'spki', format: 'der' }))) throw new InputError('KEY_INVALID', `ca: key '${config.tsaKey}' does not match ${TSA_CERT}`);
  const identityKey = loadPrivateKeyPem(readFileSync(join(config.dir, IDENTITY_KEY), 'utf8'));
  return { root, intermediate, tsa, intermediateSigner, tsaSigner, identityKey, backend };
}

export interface CaInitOptions {
  readonly config: CaConfig;
  readonly backend: KeyBackend;
  readonly organization: string;
  /** Where the encrypted root key goes (to be moved offline). */
  readonly rootKeyOut: string;
  readonly rootPassphrase: string;
  readonly now: Date;
  readonly rootYears?: number;
  readonly intermediateYears?: number;
}

export interface CaInitResult {
  readonly root: string;
  readonly intermediate: string;
  readonly tsa: string;
  readonly rootKey: string;
}

const years = (from: Date, n: number): Date => new Date(from.getTime() + n * 365 * 86_400_000);

/** Creates the root (offline), the intermediate and TSA keys in the backend, their certificates and the identity key. */
export async function initCa(o: CaInitOptions): Promise<CaInitResult> {
  const { config, backend } = o;
  for (const f of [ROOT_CERT, INTERMEDIATE_CERT, TSA_CERT, IDENTITY_KEY]) {
    if (existsSync(join(config.dir, f))) throw new InputError('KEY_EXISTS', `ca: ${join(config.dir, f)} exists; this CA is already initialized`);
  }
  if (existsSync(o.rootKeyOut)) throw new InputError('KEY_EXISTS', `ca: ${o.rootKeyOut} exists`);
  const rootKey = generateKeyPair('ecdsa-p256');
  const rootSpki = rootKey.publicKey.keyObject.export({ type: 'spki', format: 'der' });
  const rootName = distinguishedName(o.organization, `${o.organization} keyless root`);
  const notBefore = new Date(o.now.getTime() - 60_000);
  const root = await buildCertificate({ subject: rootName, issuer: rootName, notBefore, notAfter: years(o.now, o.rootYears ?? 10), spkiDer: rootSpki, ca: { pathLen: 1 } }, localSigner(rootKey));
  const rootKeyId = keyIdentifier(rootSpki);
  const rootEnd = years(o.now, o.intermediateYears ?? 5);

  const inter = await backend.create({ name: config.intermediateKey, type: 'ecdsa-p256' });
  const interSpki = (await backend.publicKey(inter.name)).keyObject.export({ type: 'spki', format: 'der' });
  const intermediate = await buildCertificate(
    { subject: distinguishedName(o.organization, `${o.organization} keyless intermediate`), issuer: subjectName(root), notBefore, notAfter: rootEnd, spkiDer: interSpki, issuerKeyId: rootKeyId, ca: { pathLen: 0 }, eku: 'codeSigning' },
    localSigner(rootKey),
  );
  const tsaInfo = await backend.create({ name: config.tsaKey, type: 'ecdsa-p256' });
  const tsaSpki = (await backend.publicKey(tsaInfo.name)).keyObject.export({ type: 'spki', format: 'der' });
  const tsa = await buildCertificate(
    { subject: distinguishedName(o.organization, `${o.organization} timestamp authority`), issuer: subjectName(root), notBefore, notAfter: rootEnd, spkiDer: tsaSpki, issuerKeyId: rootKeyId, eku: 'timeStamping' },
    localSigner(rootKey),
  );
  writeFileAtomic(o.rootKeyOut, rootKey.toPkcs8Pem(o.rootPassphrase), { mode: 0o600 });
  writeFileAtomic(join(config.dir, ROOT_CERT), toPem(root));
  writeFileAtomic(join(config.dir, INTERMEDIATE_CERT), toPem(intermediate));
  writeFileAtomic(join(config.dir, TSA_CERT), toPem(tsa));
  writeFileAtomic(join(config.dir, IDENTITY_KEY), generateKeyPair('ecdsa-p256').toPkcs8Pem(), { mode: 0o600 });
  return { root: join(config.dir, ROOT_CERT), intermediate: join(config.dir, INTERMEDIATE_CERT), tsa: join(config.dir, TSA_CERT), rootKey: o.rootKeyOut };
}
