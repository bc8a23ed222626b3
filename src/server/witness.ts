// `custody witness serve`: a C2SP tlog-witness. POST /add-checkpoint with the old size, a
// consistency proof and a signed checkpoint; the witness checks the log's signature and the proof
// from the last checkpoint it cosigned for that origin, stores the new one (durably, before
// answering), and answers with its tlog-cosignature/v1 signature line.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../core/index.ts';
import {
  decideAddCheckpoint,
  formatSignatureLine,
  parseAddCheckpointRequest,
  type NoteKeyPair,
  type NoteVerifier,
  type TreeHead,
} from '../tlog/index.ts';
import { splitListen } from './config.ts';

export interface WitnessOptions {
  /** The witness's cosigning key (tlog-cosignature/v1, type 0x04). */
  readonly key: NoteKeyPair;
  /** Logs it witnesses: origin = key name. */
  readonly logs: readonly NoteVerifier[];
  /** JSON file with the latest cosigned tree head per origin. */
  readonly statePath: string;
  readonly listen: string;
}

export interface RunningWitness {
  readonly url: string;
  close(): Promise<void>;
}

type State = Record<string, { size: number; rootHash: string }>;

async function readState(path: string): Promise<State> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as State;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InputError('FILE_UNREADABLE', `cannot read witness state ${path}`, { cause: e });
  }
}

async function writeState(path: string, state: State): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

const MAX_BODY = 1 << 20;

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** Starts the witness. Requests are handled one at a time, so the state never races. */
export async function startWitness(options: WitnessOptions): Promise<RunningWitness> {
  let state = await readState(options.statePath);
  let queue: Promise<void> = Promise.resolve();

  async function addCheckpoint(body: string, response: ServerResponse): Promise<void> {
    let request;
    try {
      request = parseAddCheckpointRequest(body);
    } catch (e) {
      send(response, 400, `${(e as Error).message}\n`);
      return;
    }
    const latest = (origin: string): TreeHead | undefined => {
      const s = state[origin];
      return s === undefined ? undefined : { size: s.size, rootHash: new Uint8Array(Buffer.from(s.rootHash, 'base64')) };
    };
    const decision = decideAddCheckpoint(request, options.logs, latest);
    if (decision.status === 409) {
      send(response, 409, `${decision.size}\n`, 'text/x.tlog.size');
      return;
    }
    if (decision.status !== 200) {
      send(response, decision.status, `${decision.code}: ${decision.message}\n`);
      return;
    }
    const { checkpoint, text } = decision.opened;
    // Persist before cosigning: a witness must never cosign something it could later forget.
    const next = { ...state, [checkpoint.origin]: { size: checkpoint.size, rootHash: Buffer.from(checkpoint.rootHash).toString('base64') } };
    await writeState(options.statePath, next);
    state = next;
    const signature = await options.key.signer.sign(Buffer.from(text, 'utf8'));
    send(response, 200, formatSignatureLine({ name: options.key.signer.name, keyId: options.key.signer.keyId, signature }));
  }

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'POST' || path !== '/add-checkpoint') {
      send(response, 404, 'not found\n');
      return;
    }
    void readBody(request).then((body) => {
      if (body === undefined) {
        send(response, 413, 'request too large\n');
        return;
      }
      queue = queue.then(() => addCheckpoint(body, response)).catch(() => send(response, 500, 'internal error\n'));
    });
  });
  const { host, port } = splitListen(options.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
