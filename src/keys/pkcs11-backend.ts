// Key backend over a PKCS#11 token (v2.40) through pkcs11js: keys are generated inside the token
// as sensitive and non-extractable; signing is C_SignInit + C_Sign on a pooled session. Tested on
// SoftHSM2. Keys are found by CKA_ID = the key name; the public key object's CKA_LABEL records
// the creation time and, after revocation, the revocation time (the private key is destroyed).
import { createHash, createPublicKey } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { InputError, PolicyError, publicKeyFromPem, type KeyType, type PublicKey } from '../core/index.ts';
import { rawEcdsaToDer } from './ecdsa-der.ts';
import { isKeyName, type BackendSigner, type DigestHash, type KeyBackend, type KeyInfo, type KeySpec } from './key-backend.ts';
import { checkDigest } from './prehash-sign.ts';
import { SessionPool } from './pkcs11-session-pool.ts';

type Handle = Buffer;

export interface Pkcs11BackendOptions {
  /** The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly library: string;
  /** Label of the token to use (initialized beforehand, e.g. softhsm2-util --init-token). */
  readonly tokenLabel: string;
  /** User PIN (from a secret store or environment; never logged). */
  readonly pin: string;
  /** Sessions in the pool (default 4: one per libuv thread signing). */
  readonly sessions?: number;
  readonly now?: () => Date;
}

// PKCS#11 3.0 values pkcs11js 2.1 does not name.
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
const CKK_EC_EDWARDS = 0x40;

// DER OIDs for CKA_EC_PARAMS (RFC 5480 §2.1.1.1, RFC 8410 §3).
const EC_PARAMS: Record<'ecdsa-p256' | 'ecdsa-p384' | 'ed25519', string> = {
  'ecdsa-p256': '06082a8648ce3d030107',
  'ecdsa-p384': '06052b81040022',
  ed25519: '06032b6570',
};

const RSA_BITS = 3072;
const LABEL_PREFIX = 'custody ';

/** One C_Initialize per process and module: PKCS#11 allows only one, and C_Finalize ends all users. */
const modules = new Map<string, { p11: pkcs11js.PKCS11; users: number }>();

function openModule(library: string): pkcs11js.PKCS11 {
  const known = modules.get(library);
  if (known !== undefined) {
    known.users++;
    return known.p11;
  }
  const p11 = new pkcs11js.PKCS11();
  p11.load(library);
  // CKF_OS_LOCKING_OK: SoftHSM2 crashes when two sessions sign at once without it (RUNTIME.md).
  p11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  modules.set(library, { p11, users: 1 });
  return p11;
}

function closeModule(library: string): void {
  const known = modules.get(library);
  if (known === undefined) return;
  if (--known.users > 0) return;
  modules.delete(library);
  known.p11.C_Finalize();
  known.p11.close();
}

function trimPadded(text: string): string {
  return text.replace(/[\0 ]+$/, '');
}

function labelOf(createdAt: string, revokedAt?: string): string {
  return `${LABEL_PREFIX}${createdAt}${revokedAt === undefined ? '' : ` revoked ${revokedAt}`}`;
}

function parseLabel(label: string): { createdAt?: string; revokedAt?: string } {
  const m = /^custody (\S+)(?: revoked (\S+))?$/.exec(label);
  if (m === null) return {};
  return { createdAt: m[1]!, ...(m[2] === undefined ? {} : { revokedAt: m[2] }) };
}

/** The DER OCTET STRING around CKA_EC_POINT (X9.62 §4.3.6 / PKCS#11 §2.3.3) → the point bytes. */
function unwrapOctetString(der: Buffer): Buffer {
  if (der[0] !== 0x04) return der;
  let len = der[1]!;
  let off = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | der[2 + i]!;
    off = 2 + n;
  }
  return off + len === der.length ? der.subarray(off) : der;
}

export interface PrivateKeyAttributes {
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  /** Whether CKA_VALUE (the private key material) could be read. */
  valueReadable: boolean;
}

export class Pkcs11KeyBackend implements KeyBackend {
  readonly kind = 'pkcs11';
  readonly #p11: pkcs11js.PKCS11;
  readonly #library: string;
  readonly #pool: SessionPool;
  readonly #now: () => Date;
  readonly #signers = new Map<string, BackendSigner>();
  #closed = false;

  constructor(options: Pkcs11BackendOptions) {
    this.#library = options.library;
    this.#now = options.now ?? (() => new Date());
    this.#p11 = openModule(options.library);
    try {
      const slot = this.#p11.C_GetSlotList(true).find((s) => trimPadded(this.#p11.C_GetTokenInfo(s).label) === options.tokenLabel);
      if (slot === undefined) throw new InputError('KEY_NOT_FOUND', `no PKCS#11 token labelled '${options.tokenLabel}'`);
      this.#pool = new SessionPool(this.#p11, slot, options.sessions ?? 4, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        this.#p11.C_Login(this.#pool.first, pkcs11js.CKU_USER, options.pin);
      } catch (e) {
        if ((e as { code?: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
          throw new InputError('KEY_PASSPHRASE_WRONG', `cannot log in to token '${options.tokenLabel}'`, { cause: e });
        }
      }
    } catch (e) {
      closeModule(options.library);
      throw e;
    }
  }

  #find(session: Handle, cls: number, name: string): Handle | undefined {
    this.#p11.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_ID, value: Buffer.from(name, 'utf8') },
    ]);
    try {
      const found = this.#p11.C_FindObjects(session, 2);
      if (found.length > 1) throw new InputError('KEY_INVALID', `the token holds several keys with id '${name}'`);
      return found[0];
    } finally {
      this.#p11.C_FindObjectsFinal(session);
    }
  }

  #publicHandle(session: Handle, name: string): Handle {
    if (!isKeyName(name)) throw new InputError('INPUT_INVALID', `'${name}' is not a key name`);
    const h = this.#find(session, pkcs11js.CKO_PUBLIC_KEY, name);
    if (h === undefined) throw new InputError('KEY_NOT_FOUND', `no key named '${name}' on the token`);
    return h;
  }

  #readPublic(session: Handle, handle: Handle): { type: KeyType; key: PublicKey } {
    const [kt] = this.#p11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_KEY_TYPE }]);
    const keyType = Number(kt!.value.length === 8 ? kt!.value.readBigUInt64LE(0) : kt!.value.readUInt32LE(0));
    let keyObject;
    if (keyType === pkcs11js.CKK_RSA) {
      const [n, e] = this.#p11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
      keyObject = createPublicKey({ key: { kty: 'RSA', n: n!.value.toString('base64url'), e: e!.value.toString('base64url') }, format: 'jwk' });
    } else {
      const [params, point] = this.#p11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_EC_PARAMS }, { type: pkcs11js.CKA_EC_POINT }]);
      const raw = unwrapOctetString(point!.value);
      const oid = params!.value.toString('hex');
      if (keyType === CKK_EC_EDWARDS) {
        keyObject = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
      } else if (keyType === pkcs11js.CKK_EC && (oid === EC_PARAMS['ecdsa-p256'] || oid === EC_PARAMS['ecdsa-p384'])) {
        const size = oid === EC_PARAMS['ecdsa-p256'] ? 32 : 48;
        keyObject = createPublicKey({
          key: {
            kty: 'EC',
            crv: size === 32 ? 'P-256' : 'P-384',
            x: raw.subarray(1, 1 + size).toString('base64url'),
            y: raw.subarray(1 + size).toString('base64url'),
          },
          format: 'jwk',
        });
      } else {
        throw new InputError('KEY_UNSUPPORTED', `token key of type ${keyType} with parameters ${oid} is not supported`);
      }
    }
    const key = publicKeyFromPem(keyObject.export({ type: 'spki', format: 'pem' }).toString());
    return { type: key.type, key };
  }

  #info(session: Handle, name: string): KeyInfo {
    const handle = this.#publicHandle(session, name);
    const { type, key } = this.#readPublic(session, handle);
    const [label] = this.#p11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_LABEL }]);
    const times = parseLabel(label!.value.toString('utf8'));
    return { name, type, keyid: key.keyid, publicKeyPem: key.pem, ...times, backend: 'pkcs11' };
  }

  create(spec: KeySpec): Promise<KeyInfo> {
    return this.#pool.use((session) => {
      if (!isKeyName(spec.name)) throw new InputError('INPUT_INVALID', `'${spec.name}' is not a key name`);
      if (this.#find(session, pkcs11js.CKO_PUBLIC_KEY, spec.name) !== undefined || this.#find(session, pkcs11js.CKO_PRIVATE_KEY, spec.name) !== undefined) {
        throw new InputError('KEY_EXISTS', `a key named '${spec.name}' exists on the token`);
      }
      const id = Buffer.from(spec.name, 'utf8');
      const createdAt = this.#now().toISOString();
      const common = [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_ID, value: id },
      ];
      const pub = [...common, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_LABEL, value: labelOf(createdAt) }];
      // Generated inside the token; never readable outside it (PKCS#11 §4.9: CKA_SENSITIVE,
      // CKA_EXTRACTABLE — together they make CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE true).
      const priv = [
        ...common,
        { type: pkcs11js.CKA_LABEL, value: spec.name },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      ];
      let mechanism: number;
      if (spec.type === 'rsa') {
        mechanism = pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN;
        pub.push({ type: pkcs11js.CKA_MODULUS_BITS, value: RSA_BITS } as never, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
      } else {
        mechanism = spec.type === 'ed25519' ? CKM_EC_EDWARDS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN;
        pub.push({ type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(EC_PARAMS[spec.type], 'hex') });
      }
      this.#p11.C_GenerateKeyPair(session, { mechanism }, pub, priv);
      return this.#info(session, spec.name);
    });
  }

  list(): Promise<KeyInfo[]> {
    return this.#pool.use((session) => {
      this.#p11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }]);
      const handles: Handle[] = [];
      try {
        for (let batch = this.#p11.C_FindObjects(session, 64); batch.length > 0; batch = this.#p11.C_FindObjects(session, 64)) handles.push(...batch);
      } finally {
        this.#p11.C_FindObjectsFinal(session);
      }
      const names = handles
        .map((h) => this.#p11.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_ID }])[0]!.value.toString('utf8'))
        .filter(isKeyName)
        .sort();
      return names.map((n) => this.#info(session, n));
    });
  }

  info(name: string): Promise<KeyInfo> {
    return this.#pool.use((session) => this.#info(session, name));
  }

  publicKey(name: string): Promise<PublicKey> {
    return this.#pool.use((session) => this.#readPublic(session, this.#publicHandle(session, name)).key);
  }

  /** The private key's protection attributes, for audits and tests (never its value). */
  privateKeyAttributes(name: string): Promise<PrivateKeyAttributes> {
    return this.#pool.use((session) => {
      const h = this.#find(session, pkcs11js.CKO_PRIVATE_KEY, name);
      if (h === undefined) throw new InputError('KEY_NOT_FOUND', `no private key named '${name}' on the token`);
      const [s, x, as, nx] = this.#p11
        .C_GetAttributeValue(session, h, [
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
          { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
          { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
        ])
        .map((a) => a.value[0] === 1);
      let valueReadable = true;
      try {
        this.#p11.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_VALUE }]);
      } catch {
        valueReadable = false;
      }
      try {
        this.#p11.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_PRIVATE_EXPONENT }]);
        valueReadable = true;
      } catch {
        // CKR_ATTRIBUTE_SENSITIVE or CKR_ATTRIBUTE_TYPE_INVALID: not readable.
      }
      return { sensitive: s!, extractable: x!, alwaysSensitive: as!, neverExtractable: nx!, valueReadable };
    });
  }

  async signer(name: string): Promise<BackendSigner> {
    const cached = this.#signers.get(name);
    if (cached !== undefined) return cached;
    const { info, handle } = await this.#pool.use((session) => {
      const i = this.#info(session, name);
      if (i.revokedAt !== undefined) throw new PolicyError('KEY_REVOKED', `key '${name}' was revoked at ${i.revokedAt}`);
      const h = this.#find(session, pkcs11js.CKO_PRIVATE_KEY, name);
      if (h === undefined) throw new PolicyError('KEY_REVOKED', `the private key of '${name}' is gone from the token`);
      return { info: i, handle: h };
    });
    const publicKey = publicKeyFromPem(info.publicKeyPem);
    const type = info.type;
    const raw = (mechanism: pkcs11js.Mechanism, data: Buffer, outSize: number): Promise<Buffer> => {
      if (!this.#signers.has(name)) return Promise.reject(new PolicyError('KEY_REVOKED', `key '${name}' was revoked`));
      return this.#pool.use(async (session) => {
        this.#p11.C_SignInit(session, mechanism, handle);
        // The async form runs C_Sign on a libuv worker thread: the event loop keeps serving.
        return await this.#p11.C_SignAsync(session, data, Buffer.alloc(outSize));
      });
    };
    const pssParams: pkcs11js.RsaPSS = { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, saltLen: 32 };
    const pss: pkcs11js.Mechanism = { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter: pssParams };
    const signDigest = async (digest: Uint8Array, hash: DigestHash): Promise<Uint8Array> => {
      checkDigest(digest, hash);
      switch (type) {
        case 'ecdsa-p256':
        case 'ecdsa-p384':
          // CKM_ECDSA signs the digest as given and returns r‖s (PKCS#11 §2.3.1): DER for custody.
          return rawEcdsaToDer(await raw({ mechanism: pkcs11js.CKM_ECDSA }, Buffer.from(digest), 132));
        case 'rsa':
          if (hash !== 'sha256') throw new InputError('KEY_UNSUPPORTED', 'RSA keys sign sha256 digests only (rsassa-pss-sha256)');
          return raw(pss, Buffer.from(digest), 1024);
        case 'ed25519':
          throw new InputError('KEY_UNSUPPORTED', 'Ed25519 cannot sign a pre-computed digest: use a DSSE statement instead');
      }
    };
    const signer: BackendSigner = {
      name,
      keyid: publicKey.keyid,
      publicKey,
      // The schemes of core/keys.ts: ecdsa-sha2-nistp256 hashes with SHA-256, nistp384 with SHA-384.
      sign: (data) => {
        if (type === 'ed25519') return raw({ mechanism: CKM_EDDSA }, Buffer.from(data), 64);
        const hash: DigestHash = type === 'ecdsa-p384' ? 'sha384' : 'sha256';
        return signDigest(createHash(hash).update(data).digest(), hash);
      },
      signDigest,
    };
    this.#signers.set(name, signer);
    return signer;
  }

  revoke(name: string, at: Date = this.#now()): Promise<KeyInfo> {
    this.#signers.delete(name);
    return this.#pool.use((session) => {
      const current = this.#info(session, name);
      if (current.revokedAt !== undefined) return current;
      const pub = this.#publicHandle(session, name);
      this.#p11.C_SetAttributeValue(session, pub, [{ type: pkcs11js.CKA_LABEL, value: labelOf(current.createdAt ?? 'unknown', at.toISOString()) }]);
      // Destroying the private key makes the revocation irreversible; the public key stays so that
      // old signatures can still be identified (and rejected) by key id.
      const priv = this.#find(session, pkcs11js.CKO_PRIVATE_KEY, name);
      if (priv !== undefined) this.#p11.C_DestroyObject(session, priv);
      return this.#info(session, name);
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#signers.clear();
    this.#pool.close();
    closeModule(this.#library);
    return Promise.resolve();
  }
}
