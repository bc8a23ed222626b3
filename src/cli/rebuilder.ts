// custody rebuilder: an independent rebuilder serving a custody server's rebuild queue. Claims a
// job, rebuilds its provenance in a fresh hermetic sandbox, pushes the signed VSA to the store and
// completes the job; repeats (or stops after one round with --once).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { IN_TOTO_PAYLOAD_TYPE, InputError, PolicyError, publicKeyFromPem, signEnvelope, verifyEnvelope } from '../core/index.ts';
import { REBUILDER_ID, readProvenanceEnvelope, rebuild } from '../build/index.ts';
import { CustodyClient } from '../server/index.ts';
import type { RebuildJob } from '../store/index.ts';
import { keylessAttestation } from './attest-keyless.ts';
import { collect, common, output, parsePositiveInt, readFileOrFail } from './io.ts';
import { keyUnlessKeyless } from './keyless-options.ts';
import { custodyVersion } from './run-provenance.ts';

interface RebuilderFlags {
  server?: string;
  key?: string;
  passphraseEnv?: string;
  /** Sign each VSA keylessly (a Sigstore bundle pushed to the store; docs/keyless.md). */
  keyless?: boolean;
  identityToken?: string;
  step: string;
  ttl?: string;
  namespace?: string;
  out?: string;
  once?: boolean;
  poll: number;
  maxJobs?: number;
  provenanceKey?: string;
  verifierId: string;
  allowTool?: string[];
  json?: boolean;
}

interface Claimed {
  job: RebuildJob;
  provenance: string;
}

async function call(server: string, method: string, path: string, body?: unknown): Promise<Response> {
  const token = process.env['CUSTODY_TOKEN'];
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined && token !== '') headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${server.replace(/\/+$/, '')}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (e) {
    throw new InputError('SERVER_UNAVAILABLE', `cannot reach ${server}: ${String((e as Error).cause ?? e)}`, { cause: e });
  }
  if (response.ok) return response;
  const text = await response.text();
  const message = `${method} ${path}: server answered ${response.status}: ${text.slice(0, 300)}`;
  if (response.status === 401 || response.status === 403) throw new PolicyError('ACCESS_DENIED', message);
  throw new InputError(response.status >= 500 ? 'SERVER_UNAVAILABLE' : 'SERVER_REFUSED', message);
}

interface JobOutcome {
  job: number;
  namespace: string;
  result: 'PASSED' | 'FAILED';
  vsaId: string;
}

async function serveJob(server: string, claimed: Claimed, flags: RebuilderFlags, outRoot: string): Promise<JobOutcome> {
  const { job } = claimed;
  const key = keyUnlessKeyless(flags);
  const provenance = readProvenanceEnvelope(Buffer.from(claimed.provenance, 'utf8'), `provenance ${job.provenanceId}`);
  if (flags.provenanceKey !== undefined) {
    verifyEnvelope(provenance.envelope, [publicKeyFromPem(readFileOrFail(flags.provenanceKey, 'provenance key').toString('utf8'))]);
  }
  const result = await rebuild({
    provenance,
    provenanceUri: `${server.replace(/\/+$/, '')}/v1/attestations/${job.provenanceId}?namespace=${job.namespace}`,
    source: job.git !== undefined ? { git: job.git, ...(job.commit === undefined ? {} : { commit: job.commit }) } : { recorded: true },
    outDir: join(outRoot, `job-${job.id}`),
    verifierId: flags.verifierId,
    verifierVersion: { custody: custodyVersion() },
    ...(flags.allowTool === undefined ? {} : { allowedToolPrefixes: flags.allowTool }),
    passThrough: false,
  });
  // Keyless: the ID token is minted in the job's namespace unless --namespace says otherwise.
  const signed =
    key === undefined
      ? Buffer.from((await keylessAttestation(result.vsa, { ...flags, server, namespace: flags.namespace ?? job.namespace })).text)
      : Buffer.from(JSON.stringify(await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(result.vsa)), [key.signer()])));
  const [pushed] = await new CustodyClient({ server }).push([signed], job.namespace);
  const verdict = result.vsa.predicate.verificationResult;
  await call(server, 'POST', `/v1/rebuilds/${job.id}/complete`, { vsaId: pushed!.id, result: verdict });
  return { job: job.id, namespace: job.namespace, result: verdict, vsaId: pushed!.id };
}

async function run(flags: RebuilderFlags): Promise<void> {
  const server = flags.server ?? process.env['CUSTODY_SERVER'];
  if (server === undefined || server === '') throw new InputError('USAGE', 'no server: pass --server URL or set CUSTODY_SERVER');
  keyUnlessKeyless(flags); // fail early on a bad key
  const outRoot = flags.out ?? mkdtempSync(join(tmpdir(), 'custody-rebuilder-'));
  const outcomes: JobOutcome[] = [];
  try {
    for (;;) {
      if (flags.maxJobs !== undefined && outcomes.length >= flags.maxJobs) break;
      const response = await call(server, 'POST', '/v1/rebuilds/claim');
      if (response.status === 204) {
        if (flags.once === true) break;
        await sleep(flags.poll * 1000);
        continue;
      }
      const outcome = await serveJob(server, (await response.json()) as Claimed, flags, outRoot);
      outcomes.push(outcome);
      if (flags.json !== true) process.stdout.write(`custody rebuilder: job ${outcome.job} (${outcome.namespace}): ${outcome.result}, VSA ${outcome.vsaId}\n`);
    }
  } finally {
    if (flags.out === undefined) rmSync(outRoot, { recursive: true, force: true });
  }
  output(flags, { jobs: outcomes }, outcomes.length === 0 ? 'custody rebuilder: no jobs' : []);
}

export function rebuilderCommand(): Command {
  return common(
    new Command('rebuilder')
      .description("serve a custody server's rebuild queue: claim a job, rebuild its provenance hermetically, push the signed VSA, complete the job (token from $CUSTODY_TOKEN, scoped to all namespaces)")
      .option('--server <url>', 'server URL (default: $CUSTODY_SERVER)')
      .option('-k, --key <file>', 'private key of this rebuilder: signs the VSAs (or --keyless)')
      .option('--passphrase-env <var>', 'passphrase of an encrypted private key')
      .option('--keyless', 'sign each VSA with an ephemeral key certified by the server CA for the rebuilder\'s workload identity (a Sigstore bundle; docs/keyless.md)')
      .option('--identity-token <file>', 'keyless: OIDC ID token file (default: $CUSTODY_IDENTITY_TOKEN, else minted for --step with $CUSTODY_TOKEN)')
      .option('--step <name>', 'keyless: the step a minted ID token names', 'rebuild')
      .option('--ttl <duration>', 'keyless: lifetime of a minted ID token', '10m')
      .option('--namespace <ns>', 'keyless: namespace to mint the ID token in (default: the job\'s)')
      .option('-d, --out <dir>', 'keep rebuilt products and diffoscope reports here (default: a temporary directory, removed)')
      .option('--once', 'stop when the queue is empty instead of polling')
      .option('--poll <seconds>', 'seconds between polls of an empty queue', parsePositiveInt, 10)
      .option('--max-jobs <n>', 'stop after this many jobs', parsePositiveInt)
      .option('--provenance-key <pem>', 'only rebuild provenance signed by this public key')
      .option('--allow-tool <prefix>', 'only bind recorded tools under this path; repeat for several (default: any path outside /root, /home, /etc, /var, /tmp, …)', collect)
      .option('--verifier-id <uri>', 'verifier.id of this rebuilder in its VSAs', REBUILDER_ID),
    'CUSTODY_TOKEN=… custody rebuilder --server https://custody.example --key rebuilder.key --verifier-id https://rebuild.example/a',
    'CUSTODY_TOKEN=… custody rebuilder --server https://custody.example --keyless --step rebuild --once',
  ).action((flags: RebuilderFlags) => run(flags));
}
