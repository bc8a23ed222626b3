// Key backend over a directory of passphrase-encrypted key files (<dir>/<name>.key.json, mode
// 0600, written atomically). Keys are decrypted once per signer and kept in memory.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  InputError,
  PolicyError,
  generateKeyPair,
  loadPrivateKeyPem,
  publicKeyFromPem,
  writeFileAtomic,
  type KeyType,
  type PrivateKey,
  type PublicKey,
} from '../core/index.ts';
import { DEFAULT_SCRYPT, decryptKey, encryptKey, parseEncryptedKeyFile, type EncryptedKeyFile, type ScryptParams } from './encrypted-key-file.ts';
import { isKeyName, type BackendSigner, type KeyBackend, type KeyInfo, type KeySpec } from './key-backend.ts';
import { digestSignerFor } from './prehash-sign.ts';

export interface FileKeyBackendOptions {
  readonly dir: string;
  /** The passphrase of every key in the directory (from a secret store or environment, never a flag). */
  readonly passphrase: string;
  readonly scrypt?: ScryptParams;
  readonly now?: () => Date;
}

const SUFFIX = '.key.json';

/** Writes a file atomically (temp file in the same directory, fsync, rename) with mode 0600. */
/** Runs a synchronous body as a promise: a throw becomes a rejection. */
function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

function infoOf(file: EncryptedKeyFile): KeyInfo {
  return {
    name: file.name,
    type: file.keyType,
    keyid: file.keyid,
    publicKeyPem: file.publicKey,
    createdAt: file.createdAt,
    ...(file.revokedAt === undefined ? {} : { revokedAt: file.revokedAt }),
    backend: 'file',
  };
}

export class FileKeyBackend implements KeyBackend {
  readonly kind = 'file';
  readonly #dir: string;
  readonly #passphrase: string;
  readonly #scrypt: ScryptParams;
  readonly #now: () => Date;
  readonly #signers = new Map<string, BackendSigner>();

  constructor(options: FileKeyBackendOptions) {
    this.#dir = options.dir;
    this.#passphrase = options.passphrase;
    this.#scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.#now = options.now ?? (() => new Date());
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
  }

  #path(name: string): string {
    if (!isKeyName(name)) throw new InputError('INPUT_INVALID', `'${name}' is not a key name ([A-Za-z0-9][A-Za-z0-9._-]{0,63})`);
    return join(this.#dir, `${name}${SUFFIX}`);
  }

  #read(name: string): EncryptedKeyFile {
    let text: string;
    try {
      text = readFileSync(this.#path(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError('KEY_NOT_FOUND', `no key named '${name}'`);
      throw e;
    }
    const file = parseEncryptedKeyFile(text);
    if (file.name !== name) throw new InputError('KEY_INVALID', `key file for '${name}' names '${file.name}'`);
    return file;
  }

  create(spec: KeySpec): Promise<KeyInfo> {
    return attempt(() => {
      return this.#storeNew(spec.name, generateKeyPair(spec.type));
    });
  }

  /** Encrypts a new key into `<name>.key.json`; never replaces an existing key of that name. */
  #storeNew(name: string, key: PrivateKey): KeyInfo {
    const path = this.#path(name);
    const file = encryptKey(
      { name, keyType: key.type, keyid: key.publicKey.keyid, publicKey: key.publicKey.pem, createdAt: this.#now().toISOString() },
      key.keyObject,
      this.#passphrase,
      this.#scrypt,
    );
    // 'wx' claims the name first, so two creators cannot both win; the content then goes in atomically.
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new InputError('KEY_EXISTS', `a key named '${name}' exists`);
      throw e;
    }
    writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    return infoOf(file);
  }

  /** Imports an existing private key (PEM) into the directory, encrypted. */
  import(name: string, pem: string, pemPassphrase?: string): Promise<KeyInfo> {
    return attempt(() => {
      return this.#storeNew(name, loadPrivateKeyPem(pem, pemPassphrase));
    });
  }

  list(): Promise<KeyInfo[]> {
    return attempt(() => {
      const names = readdirSync(this.#dir)
        .filter((f) => f.endsWith(SUFFIX))
        .map((f) => f.slice(0, -SUFFIX.length))
        .filter(isKeyName)
        .sort();
      return names.map((n) => infoOf(this.#read(n)));
    });
  }

  info(name: string): Promise<KeyInfo> {
    return attempt(() => {
      return infoOf(this.#read(name));
    });
  }

  publicKey(name: string): Promise<PublicKey> {
    return attempt(() => {
      return publicKeyFromPem(this.#read(name).publicKey);
    });
  }

  signer(name: string): Promise<BackendSigner> {
    return attempt(() => {
      const cached = this.#signers.get(name);
      if (cached !== undefined) return cached;
      const file = this.#read(name);
      if (file.revokedAt !== undefined) throw new PolicyError('KEY_REVOKED', `key '${name}' was revoked at ${file.revokedAt}`);
      const keyObject = decryptKey(file, this.#passphrase);
      const publicKey = publicKeyFromPem(file.publicKey);
      const type: KeyType = file.keyType;
      const signDigest = digestSignerFor(type, keyObject);
      // core's signer implements each scheme's whole-message signature.
      const whole = loadPrivateKeyPem(keyObject.export({ type: 'pkcs8', format: 'pem' }).toString()).signer();
      const revoked = (): boolean => !this.#signers.has(name);
      const signer: BackendSigner = {
        name,
        keyid: publicKey.keyid,
        publicKey,
        sign: (data) => (revoked() ? Promise.reject(new PolicyError('KEY_REVOKED', `key '${name}' was revoked`)) : whole.sign(data)),
        signDigest: (digest, hash) =>
          attempt(() => {
            if (revoked()) throw new PolicyError('KEY_REVOKED', `key '${name}' was revoked`);
            return signDigest(digest, hash);
          }),
      };
      this.#signers.set(name, signer);
      return signer;
    });
  }

  revoke(name: string, at: Date = this.#now()): Promise<KeyInfo> {
    return attempt(() => {
      const file = this.#read(name);
      this.#signers.delete(name);
      if (file.revokedAt !== undefined) return infoOf(file);
      const updated: EncryptedKeyFile = { ...file, revokedAt: at.toISOString() };
      writeFileAtomic(this.#path(name), `${JSON.stringify(updated, null, 2)}\n`, { mode: 0o600 });
      return infoOf(updated);
    });
  }

  close(): Promise<void> {
    this.#signers.clear();
    return Promise.resolve();
  }
}
