// custody log key|append|checkpoint|get-proof|verify-inclusion|monitor: the transparency log from
// the command line, on a log directory (--dir, no server) or through a server (--server URL).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InputError, VerificationError, encodeBase64 as encodeBase64Bytes } from '../core/index.ts';
import { LOG_KEY_FILE, resolveServeConfig } from '../server/index.ts';
import {
  CHECKPOINT_PATH,
  FileTileFetcher,
  HttpTileFetcher,
  appendToPosixLog,
  findLeafIndex,
  generateNoteKey,
  leafHash,
  monitorLog,
  openCheckpoint,
  parseCosignatureVerifierKey,
  parseSignerKey,
  parseVerifierKey,
  proveInclusion,
  verifyInclusion,
  type NoteVerifier,
  type TileFetcher,
} from '../tlog/index.ts';
import { common, output, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';

interface SourceOptions extends CommonOptions {
  dir?: string;
  server?: string;
  logKey?: string;
  witnessKey?: string[];
  witnessThreshold?: string;
}

function addSource(command: Command): Command {
  return command
    .addOption(new Option('--dir <dir>', 'a log directory (C2SP tlog-tiles layout)'))
    .addOption(new Option('--server <url>', 'a custody server (tiles under <url>/log); default $CUSTODY_SERVER'))
    .addOption(new Option('--log-key <key>', "the log's note verifier key, or a file holding it"))
    .addOption(new Option('--witness-key <key>', 'a witness verifier key or file (repeat)').argParser((v: string, p: string[] = []) => [...p, v]))
    .addOption(new Option('--witness-threshold <k>', 'require cosignatures by k of the witnesses on the checkpoint'));
}

function witnessesOf(options: SourceOptions): { witnesses: NoteVerifier[]; witnessThreshold: number } {
  const witnesses = (options.witnessKey ?? []).map((k) => parseCosignatureVerifierKey(keyText(k, 'witness key')));
  const witnessThreshold = Number(options.witnessThreshold ?? 0);
  if (!Number.isSafeInteger(witnessThreshold) || witnessThreshold < 0 || witnessThreshold > witnesses.length) {
    throw new InputError('USAGE', '--witness-threshold must be between 0 and the number of --witness-key');
  }
  return { witnesses, witnessThreshold };
}

function fetcherOf(options: SourceOptions): { fetcher: TileFetcher; where: string } {
  if (options.dir !== undefined && options.server !== undefined) throw new InputError('USAGE', 'pass either --dir or --server, not both');
  if (options.dir !== undefined) return { fetcher: new FileTileFetcher(resolve(options.dir)), where: options.dir };
  const server = options.server ?? process.env['CUSTODY_SERVER'];
  if (server === undefined || server === '') throw new InputError('USAGE', 'no log: pass --dir DIR or --server URL');
  return { fetcher: new HttpTileFetcher(`${server.replace(/\/+$/, '')}/log`), where: server };
}

/** A key given inline (`name+id+base64`) or as a file holding one. */
function keyText(text: string, what: string): string {
  const inline = /^[^\s+]+\+[0-9a-fA-F]{8}\+[A-Za-z0-9+/=]+$/.test(text) && !existsSync(text);
  return inline ? text : readFileOrFail(text, what).toString('utf8').trim();
}

function verifierOf(text: string): NoteVerifier {
  return parseVerifierKey(keyText(text, 'log key'));
}

function requireLogKey(options: SourceOptions): NoteVerifier {
  if (options.logKey === undefined) throw new InputError('USAGE', "pass --log-key with the log's verifier key (custody log key show)");
  return verifierOf(options.logKey);
}

async function readCheckpoint(fetcher: TileFetcher, where: string, log: NoteVerifier, options: SourceOptions) {
  const bytes = await fetcher.fetchTile(CHECKPOINT_PATH);
  if (bytes === undefined) throw new InputError('FILE_UNREADABLE', `${where} has no checkpoint`);
  return { opened: openCheckpoint(bytes, { log, ...witnessesOf(options) }), text: Buffer.from(bytes).toString('utf8') };
}

// --- key ---------------------------------------------------------------------------------------

interface KeyGenerateOptions extends CommonOptions {
  name: string;
  out?: string;
  witness?: boolean;
}

function keyGenerate(options: KeyGenerateOptions): void {
  const { signerKey, verifierKey } = generateNoteKey(options.name, options.witness === true ? 'cosignature/v1' : 'ed25519');
  if (options.out !== undefined) {
    writeFileAtomic(options.out, `${signerKey}\n`, 0o600);
    writeFileAtomic(`${options.out}.pub`, `${verifierKey}\n`);
    output(options, { verifierKey, keyFile: options.out, verifierKeyFile: `${options.out}.pub` }, [verifierKey, `signer key written to ${options.out} (keep it secret), verifier key to ${options.out}.pub`]);
  } else {
    output(options, { signerKey, verifierKey }, [signerKey, verifierKey]);
  }
}

interface KeyShowOptions extends CommonOptions {
  data?: string;
  config?: string;
  keyFile?: string;
}

function keyShow(options: KeyShowOptions): void {
  let path = options.keyFile;
  if (path === undefined) {
    const config = resolveServeConfig({ ...(options.config === undefined ? {} : { config: options.config }), ...(options.data === undefined ? {} : { data: options.data }) });
    path = config.tlog.keyFile ?? join(config.dataDir, LOG_KEY_FILE);
  }
  const key = parseSignerKey(readFileOrFail(path, 'log key').toString('utf8').trim());
  output(options, { verifierKey: key.verifierKey, origin: key.verifier.name }, key.verifierKey);
}

// --- append ------------------------------------------------------------------------------------

interface AppendOptions extends CommonOptions {
  dir?: string;
  origin?: string;
  keyFile?: string;
  server?: string;
  namespace?: string;
}

async function append(files: string[], options: AppendOptions): Promise<void> {
  const entries = files.map((f) => new Uint8Array(readFileOrFail(f, 'entry')));
  if (options.dir !== undefined) {
    if (options.server !== undefined) throw new InputError('USAGE', 'pass either --dir or --server, not both');
    if (options.keyFile === undefined) throw new InputError('USAGE', 'a --dir log needs --key-file (PRIVATE+KEY+… note key)');
    const key = parseSignerKey(readFileOrFail(options.keyFile, 'note key').toString('utf8').trim());
    const origin = options.origin ?? key.verifier.name;
    const result = await appendToPosixLog({ dir: resolve(options.dir), origin, key }, entries);
    output(
      options,
      { indexes: result.indexes, appended: result.appended, treeSize: result.checkpoint.size, checkpoint: result.signedCheckpoint },
      [...files.map((f, i) => `${result.indexes[i]!}  ${f}`), `checkpoint: size ${result.checkpoint.size}`],
    );
    return;
  }
  const server = options.server ?? process.env['CUSTODY_SERVER'];
  if (server === undefined || server === '') throw new InputError('USAGE', 'pass --dir DIR (offline) or --server URL');
  const token = process.env['CUSTODY_TOKEN'];
  const q = options.namespace === undefined ? '' : `?namespace=${encodeURIComponent(options.namespace)}`;
  const response = await fetch(`${server.replace(/\/+$/, '')}/v1/log/entries${q}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ entries: entries.map(encodeBase64Bytes) }),
  }).catch((e: unknown) => {
    throw new InputError('SERVER_UNAVAILABLE', `cannot reach ${server}: ${(e as Error).message}`, { cause: e });
  });
  const body = (await response.json().catch(() => ({}))) as { results?: { index: number; duplicate: boolean }[]; code?: string; message?: string };
  if (!response.ok || body.results === undefined) {
    throw new InputError('SERVER_REFUSED', `server refused the append (${response.status} ${body.code ?? ''}): ${body.message ?? ''}`);
  }
  output(options, body, files.map((f, i) => `${body.results![i]!.index}${body.results![i]!.duplicate ? ' (already logged)' : ''}  ${f}`));
}

// --- checkpoint, get-proof, verify-inclusion -----------------------------------------------------

async function checkpoint(options: SourceOptions): Promise<void> {
  const { fetcher, where } = fetcherOf(options);
  if (options.logKey === undefined) {
    const bytes = await fetcher.fetchTile(CHECKPOINT_PATH);
    if (bytes === undefined) throw new InputError('FILE_UNREADABLE', `${where} has no checkpoint`);
    const text = Buffer.from(bytes).toString('utf8');
    output(options, { checkpoint: text, verified: false }, [text.trimEnd(), '(not verified: pass --log-key to check the signature)']);
    return;
  }
  const { opened, text } = await readCheckpoint(fetcher, where, requireLogKey(options), options);
  const cp = opened.checkpoint;
  output(
    options,
    { checkpoint: text, verified: true, origin: cp.origin, treeSize: cp.size, rootHash: encodeBase64Bytes(cp.rootHash), cosignatures: opened.cosignatures.length },
    [text.trimEnd(), `verified: origin ${cp.origin}, size ${cp.size}`],
  );
}

interface ProofOptions extends SourceOptions {
  index?: string;
  proof?: string;
}

/** The inclusion proof of an entry (by --index or by the file's bytes) in the current checkpoint. */
async function getProof(file: string | undefined, options: ProofOptions): Promise<void> {
  const { fetcher, where } = fetcherOf(options);
  const { opened, text } = await readCheckpoint(fetcher, where, requireLogKey(options), options);
  const head = opened.checkpoint;
  let index: number | undefined;
  if (options.index !== undefined) {
    index = Number(options.index);
    if (!Number.isSafeInteger(index) || index < 0) throw new InputError('USAGE', `--index ${options.index} is not an index`);
  } else if (file !== undefined) {
    index = await findLeafIndex(fetcher, head.size, leafHash(new Uint8Array(readFileOrFail(file, 'entry'))));
    if (index === undefined) throw new VerificationError('PROOF_INVALID', `${file} is not in the log (size ${head.size})`);
  } else {
    throw new InputError('USAGE', 'pass --index N or the entry FILE');
  }
  if (index >= head.size) throw new VerificationError('PROOF_INVALID', `index ${index} is not in the log (size ${head.size})`);
  const { leafHash: lh, proof } = await proveInclusion(fetcher, head, index);
  const json = {
    logIndex: String(index),
    leafHash: Buffer.from(lh).toString('hex'),
    inclusionProof: { logIndex: String(index), rootHash: encodeBase64Bytes(head.rootHash), treeSize: String(head.size), hashes: proof.map(encodeBase64Bytes), checkpoint: { envelope: text } },
  };
  output(options, json, JSON.stringify(json, null, 2));
}

interface ProofFile {
  logIndex?: unknown;
  inclusionProof?: { logIndex?: unknown; hashes?: unknown; checkpoint?: { envelope?: unknown } };
  tlogEntry?: ProofFile;
}

/** Offline: the entry FILE is in the log, by a saved proof (--proof) or by proofs from tiles. */
async function verifyInclusionCommand(file: string, options: ProofOptions): Promise<void> {
  const log = requireLogKey(options);
  const leaf = leafHash(new Uint8Array(readFileOrFail(file, 'entry')));
  if (options.proof !== undefined) {
    let doc = JSON.parse(readFileOrFail(options.proof, 'proof').toString('utf8')) as ProofFile;
    if (doc.tlogEntry !== undefined) doc = doc.tlogEntry;
    const p = doc.inclusionProof;
    const envelope = p?.checkpoint?.envelope;
    if (typeof envelope !== 'string' || !Array.isArray(p?.hashes)) throw new InputError('INPUT_INVALID', `${options.proof} holds no inclusionProof with a checkpoint`);
    const opened = openCheckpoint(envelope, { log, ...witnessesOf(options) });
    const index = Number(p.logIndex ?? doc.logIndex);
    const hashes = (p.hashes as unknown[]).map((h) => {
      if (typeof h !== 'string') throw new InputError('INPUT_INVALID', 'proof hashes must be base64 strings');
      return new Uint8Array(Buffer.from(h, 'base64'));
    });
    try {
      verifyInclusion(index, opened.checkpoint.size, leaf, hashes, opened.checkpoint.rootHash);
    } catch (e) {
      throw new VerificationError('PROOF_INVALID', `${file} is not proven included at index ${index}`, { cause: e });
    }
    output(options, { included: true, index, treeSize: opened.checkpoint.size }, `OK: ${file} is entry ${index} of the log (checkpoint size ${opened.checkpoint.size})`);
    return;
  }
  const { fetcher, where } = fetcherOf(options);
  const { opened } = await readCheckpoint(fetcher, where, log, options);
  const index = await findLeafIndex(fetcher, opened.checkpoint.size, leaf);
  if (index === undefined) throw new VerificationError('PROOF_INVALID', `${file} is not in the log (size ${opened.checkpoint.size})`);
  await proveInclusion(fetcher, opened.checkpoint, index);
  output(options, { included: true, index, treeSize: opened.checkpoint.size }, `OK: ${file} is entry ${index} of the log (checkpoint size ${opened.checkpoint.size})`);
}

// --- monitor -----------------------------------------------------------------------------------

interface MonitorOptions extends SourceOptions {
  url?: string;
  state?: string;
  interval?: string;
  once?: boolean;
}

async function monitor(options: MonitorOptions): Promise<void> {
  const log = requireLogKey(options);
  const url = options.url;
  const fetcher = url !== undefined ? new HttpTileFetcher(url) : fetcherOf(options).fetcher;
  const intervalMs = options.interval === undefined ? 10_000 : Number(options.interval) * 1000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new InputError('USAGE', '--interval must be a positive number of seconds');
  const report = (line: string, json: unknown): void => output(options, json, line);
  await monitorLog({
    fetcher,
    log,
    ...(options.state === undefined ? {} : { statePath: options.state }),
    ...witnessesOf(options),
    once: options.once === true,
    intervalMs,
    onCheckpoint: (c) => report(`checkpoint size ${c.size} consistent (${c.newEntries} new entries re-derived)`, c),
  });
}

export function logCommand(): Command {
  const command = new Command('log').description('transparency log: keys, offline file logs, checkpoints, proofs, monitoring');
  const key = new Command('key').description("the log's note signing key");
  key.addCommand(
    common(
      new Command('generate')
        .description('generate a note key pair (PRIVATE+KEY+<name>+… and <name>+<id>+…)')
        .requiredOption('--name <origin>', 'key name = the log origin (or witness name)')
        .option('--out <file>', 'write the signer key here (0600) and the verifier key to FILE.pub')
        .option('--witness', 'a witness cosigning key (tlog-cosignature/v1)')
        .action((o: KeyGenerateOptions) => keyGenerate(o)),
      'custody log key generate --name example.com/log --out log.key',
    ),
  );
  key.addCommand(
    common(
      new Command('show')
        .description("print the server log's note verifier key")
        .option('--data <dir>', 'server data directory (default .custody/server)')
        .option('--config <file>', 'server config naming the data directory and key file')
        .option('--key-file <file>', 'a PRIVATE+KEY+… file')
        .action((o: KeyShowOptions) => keyShow(o)),
      'custody log key show --data .custody/server',
    ),
  );
  command.addCommand(key);
  command.addCommand(
    common(
      new Command('append')
        .description("append each FILE's bytes as one entry, in order, then one checkpoint")
        .argument('<file...>', 'entry files')
        .option('--dir <dir>', 'a log directory (offline; created if missing)')
        .option('--origin <origin>', 'checkpoint origin (default: the key name)')
        .option('--key-file <file>', 'PRIVATE+KEY+… note key (with --dir)')
        .option('--server <url>', 'append through a server (token from $CUSTODY_TOKEN)')
        .option('--namespace <ns>', 'namespace for authorization on the server')
        .action((files: string[], o: AppendOptions) => append(files, o)),
      'custody log append --dir ./log --key-file log.key a.txt b.txt',
      'custody log append --server http://127.0.0.1:8420 entry.bin',
    ),
  );
  command.addCommand(common(addSource(new Command('checkpoint').description('print (and with --log-key verify) the current checkpoint')).action((o: SourceOptions) => checkpoint(o)), 'custody log checkpoint --dir ./log --log-key log.key.pub'));
  command.addCommand(
    common(
      addSource(new Command('get-proof').description('inclusion proof of an entry (by --index or its FILE) against the current checkpoint'))
        .argument('[file]', 'the entry bytes')
        .option('--index <n>', 'entry index')
        .action((file: string | undefined, o: ProofOptions) => getProof(file, o)),
      'custody log get-proof --dir ./log --log-key log.key.pub a.txt',
    ),
  );
  command.addCommand(
    common(
      addSource(new Command('verify-inclusion').description('check that FILE is an entry of the log (exit 1 if not)'))
        .argument('<file>', 'the entry bytes')
        .option('--proof <file>', 'a saved proof (get-proof --json, or an append result / tlogEntries item): no network')
        .action((file: string, o: ProofOptions) => verifyInclusionCommand(file, o)),
      'custody log verify-inclusion --server http://127.0.0.1:8420 --log-key KEY a.txt',
      'custody log verify-inclusion --log-key log.key.pub --proof proof.json a.txt',
    ),
  );
  command.addCommand(
    common(
      addSource(
        new Command('monitor').description('follow checkpoints, check consistency, re-derive tiles; exit 1 with an alarm on a split view or rewritten history'),
      )
        .option('--url <url>', 'the log prefix URL (checkpoint and tile/… under it)')
        .option('--state <file>', 'where the last verified checkpoint is kept between runs')
        .option('--interval <seconds>', 'polling interval (default 10)')
        .option('--once', 'check once and exit')
        .action((o: MonitorOptions) => monitor(o)),
      'custody log monitor --url http://127.0.0.1:8420/log --log-key KEY --state monitor.json',
    ),
  );
  return command;
}
