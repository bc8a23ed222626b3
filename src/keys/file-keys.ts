// Key files on disk: PEM (PKCS#8 / SPKI / in-toto's PKCS#1 RSA) or securesystemslib JSON, detected by
// content. Writing is atomic and private keys are created with mode 0600.
import { readFileSync } from 'node:fs';
import {
  InputError,
  loadPrivateKeyPem,
  parseJson,
  privateKeyFromSecuresystemslib,
  publicKeyFromPem,
  publicKeyFromSecuresystemslib,
  type PrivateKey,
  type PublicKey,
} from '../core/index.ts';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new InputError('FILE_UNREADABLE', `cannot read ${what} ${path} (${code})`, { cause: e });
  }
}

function isJsonKey(text: string): boolean {
  return text.trimStart().startsWith('{');
}

function hasPrivatePart(json: unknown): boolean {
  const keyval = (json as { keyval?: { private?: unknown } } | null)?.keyval;
  return typeof keyval?.private === 'string' && keyval.private !== '';
}

/** True when the file holds a private key (PEM or securesystemslib JSON with a private part). */
export function isPrivateKeyText(text: string): boolean {
  if (isJsonKey(text)) return hasPrivatePart(parseJson(text, 'key file'));
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
}

export function parsePrivateKeyText(text: string, passphrase?: string): PrivateKey {
  if (isJsonKey(text)) return privateKeyFromSecuresystemslib(parseJson(text, 'key file'));
  return loadPrivateKeyPem(text, passphrase);
}

/** A public key from a public or private key file of any supported form. */
export function parsePublicKeyText(text: string, passphrase?: string): PublicKey {
  if (isJsonKey(text)) return publicKeyFromSecuresystemslib(parseJson(text, 'key file'));
  if (isPrivateKeyText(text)) return loadPrivateKeyPem(text, passphrase).publicKey;
  return publicKeyFromPem(text);
}

export function loadPrivateKeyFile(path: string, passphrase?: string): PrivateKey {
  const text = readText(path, 'private key');
  if (!isPrivateKeyText(text)) {
    throw new InputError('KEY_INVALID', `${path} holds no private key (a signing key is needed, e.g. NAME.key)`);
  }
  try {
    return parsePrivateKeyText(text, passphrase);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.code, `${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function loadPublicKeyFile(path: string, passphrase?: string): PublicKey {
  const text = readText(path, 'public key');
  try {
    return parsePublicKeyText(text, passphrase);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.code, `${path}: ${e.message}`, { cause: e });
    throw e;
  }
}
