// Unencrypted OpenSSH private keys ("-----BEGIN OPENSSH PRIVATE KEY-----", PROTOCOL.key) for
// ed25519 and ecdsa, so a developer's git signing key can also sign reviews and log entries.
// Encrypted keys are refused: decrypt a copy with ssh-keygen -p, or use a PEM key.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { InputError } from '../core/index.ts';
import { parseSshPublicKeyBlob, type SshPublicKey } from './ssh-public-key.ts';
import { SshReader } from './ssh-wire.ts';

const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';
const AUTH_MAGIC = 'openssh-key-v1\0';

export interface OpenSshPrivateKey {
  readonly publicKey: SshPublicKey;
  readonly keyObject: KeyObject;
}

export function isOpenSshPrivateKey(text: string): boolean {
  return text.includes(BEGIN);
}

const CRV: Record<string, string> = { nistp256: 'P-256', nistp384: 'P-384', nistp521: 'P-521' };

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export function parseOpenSshPrivateKey(text: string): OpenSshPrivateKey {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new InputError('PEM_INVALID', 'not an OpenSSH private key');
  const bytes = Buffer.from(text.slice(start + BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  const r = new SshReader(bytes, 'OpenSSH private key');
  if (Buffer.from(r.raw(AUTH_MAGIC.length)).toString('latin1') !== AUTH_MAGIC) throw new InputError('PEM_INVALID', 'OpenSSH private key: bad magic');
  const cipher = r.text();
  r.text(); // kdfname
  r.string(); // kdfoptions
  if (cipher !== 'none') throw new InputError('KEY_PASSPHRASE_REQUIRED', 'the OpenSSH private key is encrypted; decrypt a copy (ssh-keygen -p) or use a PEM key');
  if (r.uint32() !== 1) throw new InputError('KEY_UNSUPPORTED', 'OpenSSH private key files with several keys are not supported');
  const publicKey = parseSshPublicKeyBlob(r.string());
  const p = new SshReader(r.string(), 'OpenSSH private key section');
  if (p.uint32() !== p.uint32()) throw new InputError('PEM_INVALID', 'OpenSSH private key: check integers differ (corrupt)');
  const type = p.text();
  let keyObject: KeyObject;
  if (type === 'ssh-ed25519') {
    const pub = p.string();
    const priv = p.string(); // seed ‖ public key
    keyObject = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pub), d: b64url(priv.subarray(0, 32)) }, format: 'jwk' });
  } else if (type.startsWith('ecdsa-sha2-')) {
    const curve = p.text();
    const q = p.string();
    const d = p.mpint();
    const crv = CRV[curve];
    if (crv === undefined) throw new InputError('KEY_UNSUPPORTED', `curve ${curve}`);
    const size = (q.length - 1) / 2;
    const dd = Buffer.alloc(size);
    dd.set(d, size - d.length);
    keyObject = createPrivateKey({ key: { kty: 'EC', crv, x: b64url(q.subarray(1, 1 + size)), y: b64url(q.subarray(1 + size)), d: b64url(dd) }, format: 'jwk' });
  } else {
    throw new InputError('KEY_UNSUPPORTED', `OpenSSH private key type ${type} is not supported here (use ed25519 or ecdsa, or a PEM key)`);
  }
  return { publicKey, keyObject };
}
