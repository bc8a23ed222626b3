// custody key generate|show|export|import
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { InputError, KEY_TYPES, isKeyType, generateKeyPair, type PrivateKey } from '../core/index.ts';
import { isPrivateKeyText, parsePrivateKeyText, parsePublicKeyText } from '../keys/index.ts';
import { common, output, passphraseFromEnv, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';

interface GenerateOptions extends CommonOptions {
  type: string;
  out: string;
  passphraseEnv?: string;
  bits?: string;
  force?: boolean;
}

function refuseOverwrite(paths: string[], force: boolean | undefined): void {
  if (force === true) return;
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length > 0) throw new InputError('USAGE', `${existing.join(', ')} already exist(s); pass --force to overwrite`);
}

function writeKeyPair(key: PrivateKey, out: string, passphrase: string | undefined, force: boolean | undefined): { privateFile: string; publicFile: string } {
  const privateFile = `${out}.key`;
  const publicFile = `${out}.pub`;
  refuseOverwrite([privateFile, publicFile], force);
  writeFileAtomic(privateFile, key.toPkcs8Pem(passphrase), 0o600);
  writeFileAtomic(publicFile, key.publicKey.pem);
  return { privateFile, publicFile };
}

function generate(options: GenerateOptions): void {
  if (!isKeyType(options.type)) throw new InputError('USAGE', `unknown key type '${options.type}' (use ${KEY_TYPES.join(', ')})`);
  const bits = options.bits === undefined ? undefined : Number(options.bits);
  const key = generateKeyPair(options.type, bits === undefined ? {} : { rsaBits: bits });
  const passphrase = passphraseFromEnv(options.passphraseEnv);
  const files = writeKeyPair(key, options.out, passphrase, options.force);
  output(
    options,
    { type: key.type, keyid: key.publicKey.keyid, ...files, encrypted: passphrase !== undefined },
    [`generated ${key.type} key ${key.publicKey.keyid}`, `  private: ${files.privateFile}${passphrase === undefined ? ' (unencrypted)' : ' (encrypted)'}`, `  public:  ${files.publicFile}`],
  );
}

interface ShowOptions extends CommonOptions {
  passphraseEnv?: string;
}

function show(file: string, options: ShowOptions): void {
  const text = readFileOrFail(file, 'key file').toString('utf8');
  const isPrivate = isPrivateKeyText(text);
  const key = parsePublicKeyText(text, passphraseFromEnv(options.passphraseEnv));
  output(
    options,
    { type: key.type, keyid: key.keyid, scheme: key.scheme, private: isPrivate },
    [`type:   ${key.type}`, `keyid:  ${key.keyid}`, `scheme: ${key.scheme}`, `part:   ${isPrivate ? 'private' : 'public'}`],
  );
}

interface ExportOptions extends CommonOptions {
  format: string;
  out?: string;
  public?: boolean;
  passphraseEnv?: string;
}

function exportKey(file: string, options: ExportOptions): void {
  const text = readFileOrFail(file, 'key file').toString('utf8');
  const passphrase = passphraseFromEnv(options.passphraseEnv);
  const exportPrivate = isPrivateKeyText(text) && options.public !== true;
  let body: string;
  if (options.format === 'securesystemslib') {
    const sslib = exportPrivate ? parsePrivateKeyText(text, passphrase).toSecuresystemslib() : parsePublicKeyText(text, passphrase).toSecuresystemslib();
    body = JSON.stringify(sslib);
  } else if (options.format === 'pem') {
    if (exportPrivate) {
      const key = parsePrivateKeyText(text, passphrase);
      // in-toto reads RSA private keys as PKCS#1 PEM; the other types as PKCS#8.
      body = key.type === 'rsa' ? key.keyObject.export({ type: 'pkcs1', format: 'pem' }).toString() : key.toPkcs8Pem();
    } else {
      body = parsePublicKeyText(text, passphrase).pem;
    }
  } else {
    throw new InputError('USAGE', `unknown export format '${options.format}' (use securesystemslib or pem)`);
  }
  if (options.out !== undefined) {
    writeFileAtomic(options.out, body, exportPrivate ? 0o600 : 0o644);
    if (options.json === true) output(options, { out: options.out, format: options.format, private: exportPrivate }, '');
  } else if (options.json === true) {
    output(options, { format: options.format, private: exportPrivate, key: options.format === 'pem' ? body : JSON.parse(body) as unknown }, '');
  } else {
    process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
  }
}

interface ImportOptions extends CommonOptions {
  out: string;
  passphraseEnv?: string;
  force?: boolean;
}

function importKey(file: string, options: ImportOptions): void {
  const text = readFileOrFail(file, 'key file').toString('utf8');
  const passphrase = passphraseFromEnv(options.passphraseEnv);
  if (isPrivateKeyText(text)) {
    // The private key is re-encrypted with the same passphrase when one was given.
    const key = parsePrivateKeyText(text, passphrase);
    const files = writeKeyPair(key, options.out, passphrase, options.force);
    output(options, { type: key.type, keyid: key.publicKey.keyid, ...files }, [`imported ${key.type} key ${key.publicKey.keyid}`, `  private: ${files.privateFile}`, `  public:  ${files.publicFile}`]);
    return;
  }
  const key = parsePublicKeyText(text);
  const publicFile = `${options.out}.pub`;
  refuseOverwrite([publicFile], options.force);
  writeFileAtomic(publicFile, key.pem);
  output(options, { type: key.type, keyid: key.keyid, publicFile }, [`imported ${key.type} public key ${key.keyid}`, `  public:  ${publicFile}`]);
}

export function keyCommand(): Command {
  const key = new Command('key').description('generate, inspect, export and import signing keys');
  common(
    key
      .command('generate')
      .description('generate a key pair: NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM)')
      .addOption(new Option('--type <type>', 'key type').choices(KEY_TYPES).default('ed25519'))
      .requiredOption('--out <name>', 'file name prefix for NAME.key and NAME.pub')
      .option('--passphrase-env <var>', 'encrypt the private key with the passphrase in this environment variable')
      .option('--bits <n>', 'RSA modulus length (default 3072)')
      .option('--force', 'overwrite existing files')
      .action((o: GenerateOptions) => generate(o)),
    'custody key generate --type ed25519 --out alice',
    'ALICE_PASS=secret custody key generate --type ecdsa-p256 --out alice --passphrase-env ALICE_PASS',
  );
  common(
    key
      .command('show')
      .description('print a key\'s type and key id (securesystemslib key id, as in-toto computes it)')
      .argument('<file>', 'a PEM or securesystemslib JSON key file, public or private')
      .option('--passphrase-env <var>', 'passphrase of an encrypted private key')
      .action((file: string, o: ShowOptions) => show(file, o)),
    'custody key show alice.pub --json',
  );
  common(
    key
      .command('export')
      .description('export a key as securesystemslib JSON (for in-toto ed25519/ecdsa keys) or PEM (in-toto RSA keys use PKCS#1)')
      .argument('<file>', 'key file to export')
      .requiredOption('--format <format>', 'securesystemslib or pem')
      .option('--out <file>', 'write to this file instead of stdout')
      .option('--public', 'export only the public part of a private key')
      .option('--passphrase-env <var>', 'passphrase of an encrypted private key')
      .action((file: string, o: ExportOptions) => exportKey(file, o)),
    'custody key export alice.key --format securesystemslib --out alice.intoto',
    'custody key export alice.pub --format securesystemslib > alice.intoto.pub',
  );
  common(
    key
      .command('import')
      .description('import a PEM or securesystemslib JSON key (e.g. from in-toto-keygen) as NAME.pub and, for a private key, NAME.key')
      .argument('<file>', 'key file to import')
      .requiredOption('--out <name>', 'file name prefix')
      .option('--passphrase-env <var>', 'passphrase of an encrypted PEM key (kept for the imported key)')
      .option('--force', 'overwrite existing files')
      .action((file: string, o: ImportOptions) => importKey(file, o)),
    'custody key import bob --out bob      # bob: made by in-toto-keygen -t ed25519 bob',
  );
  return key;
}
