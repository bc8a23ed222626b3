// custody demo: the CNCF example secure supply chain, end to end, on a sample TypeScript app
// (examples/supply-chain), in a temporary directory; `--attack NAME` plays one attack and shows
// the stage and rule that stop it. See docs/walkthrough.md.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InputError } from '../core/index.ts';
import { ATTACKS, attackNamed, type Attack } from './demo-attacks.ts';
import { CUSTODY_JS, StageFailure, exec, saveState, type DemoContext, type DemoState, type StepRecord } from './demo-run.ts';
import { STEPS, configureBackendEnv, missingComponents, setUp } from './demo-steps.ts';
import { common, printJson, type CommonOptions } from './io.ts';

interface DemoOptions extends CommonOptions {
  attack?: string;
  keep?: string;
  from?: string;
  backend: 'auto' | 'softhsm' | 'file';
  server?: string;
  verbose?: boolean;
  keyless?: boolean;
}

interface Summary {
  result: 'passed' | 'caught' | 'not-caught' | 'failed';
  attack?: { name: string; threat: string; description: string; expected: { stage: string; rule: string } };
  caught?: { stage: string; rule: string; artifact: string; reason: string; checks: string[]; asExpected: boolean };
  backend?: string;
  /** --keyless: every attesting step signed with a certificate for its workload identity. */
  keyless?: boolean;
  workDir?: string;
  uploaded?: { server: string; attestations: number };
  durationMs: number;
  steps: StepRecord[];
}

const TICK = '✔';
const CROSS = '✘';

function listAttacks(options: DemoOptions): void {
  if (options.json === true) {
    printJson(ATTACKS);
    return;
  }
  const width = Math.max(...ATTACKS.map((a) => a.name.length));
  process.stdout.write(`${ATTACKS.map((a) => `${a.name.padEnd(width)}  ${a.threat.padEnd(13)} caught at ${`${a.expect.stage} (${a.expect.rule})`.padEnd(38)} ${a.description}`).join('\n')}\n`);
}

/** Progress lines: stdout for humans; with --json only on a terminal's stderr. */
function printer(options: DemoOptions): (line: string) => void {
  if (options.json !== true) return (line) => process.stdout.write(`${line}\n`);
  return process.stderr.isTTY ? (line) => process.stderr.write(`${line}\n`) : () => undefined;
}

function workDirectory(options: DemoOptions): string {
  if (options.keep === undefined) return mkdtempSync(join(tmpdir(), 'custody-demo-'));
  const dir = resolve(options.keep);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new InputError('USAGE', `--keep ${options.keep}: the directory exists and is not empty`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function upload(ctx: DemoContext, server: string, attacked: boolean, from: string | undefined): Promise<number> {
  const token = process.env['CUSTODY_TOKEN'];
  if (token === undefined || token === '') throw new InputError('USAGE', '--server needs a token with attestations.write in $CUSTODY_TOKEN');
  const files: string[] = [];
  const collect = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      if (f.isDirectory()) collect(join(dir, f.name));
      // DSSE envelopes, and (--keyless) Sigstore bundles holding one; not the release's message-signature bundle.
      else if ((f.name.endsWith('.json') || f.name.endsWith('.sigstore')) && !f.name.includes('admission-review') && !f.name.endsWith('.sigstore.json')) files.push(join(dir, f.name));
    }
  };
  for (const d of ['attestations', 'release', 'deploy']) collect(join(ctx.root, d));
  // Resumed from a kept run (--from): what that run made is already uploaded; only what changed is new.
  const unchanged = (f: string): boolean => {
    if (from === undefined) return false;
    const kept = join(resolve(from), f.slice(ctx.root.length + 1));
    return existsSync(kept) && readFileSync(kept).equals(readFileSync(f));
  };
  const envelopes = files.filter((f) => !f.endsWith('trusted_root.json') && !unchanged(f));
  // A failed rebuild's own provenance carries diffoscope's report (a byproduct): the evidence of why.
  for (const rebuilt of ['rebuild.provenance.json', 'rebuild.provenance.sigstore'].map((f) => join(ctx.root, 'rebuild', f))) {
    if (attacked && existsSync(rebuilt)) envelopes.push(rebuilt);
  }
  if (envelopes.length === 0) return 0;
  const r = await exec(ctx, [process.execPath, CUSTODY_JS, 'push', ...envelopes, '--server', server, '--json'], { env: { CUSTODY_TOKEN: token } });
  if (r.status !== 0) throw new InputError('SERVER_REFUSED', `uploading the evidence to ${server} failed: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
  return envelopes.length;
}

function validate(options: DemoOptions): Attack | undefined {
  const attack: Attack | undefined = options.attack === undefined ? undefined : attackNamed(options.attack);
  if (options.attack !== undefined && attack === undefined) throw new InputError('USAGE', `unknown attack '${options.attack}' (custody demo --attack list names them)`);
  if (options.from !== undefined && attack === undefined) throw new InputError('USAGE', '--from replays an attack against a kept honest run: give --attack too');
  if (options.from !== undefined && !existsSync(join(options.from, 'state.json'))) throw new InputError('USAGE', `--from ${options.from}: not a directory kept by custody demo --keep (no state.json)`);
  const missing = missingComponents();
  if (missing.length > 0) throw new InputError('SANDBOX_UNAVAILABLE', `the demo needs ${missing.join(', ')}: install them with scripts/install-components.sh`);
  return attack;
}

/** The one-time set-up, or a copy of a kept run's; returns the index of the first stage to run. */
async function prepare(ctx: DemoContext, options: DemoOptions, attack: Attack | undefined, say: (line: string) => void): Promise<number> {
  if (options.from !== undefined) {
    cpSync(resolve(options.from), ctx.root, { recursive: true });
    ctx.state = JSON.parse(readFileSync(join(ctx.root, 'state.json'), 'utf8')) as DemoState;
    // A kept run signs the way it was set up: keylessly only when it was made with --keyless.
    if (options.keyless === true && ctx.state.keyless !== true) throw new InputError('USAGE', `--keyless: ${options.from} was not kept from a --keyless run`);
    configureBackendEnv(ctx);
    say(`  set-up      reused from ${options.from} (an honest run); the attack starts at stage ${attack?.inject ?? ''}`);
    return Math.max(0, STEPS.findIndex((s) => s.id === attack?.inject));
  }
  const started = Date.now();
  ctx.current = { id: 'commit', cncf: '-', title: 'set-up', status: 'ok', evidence: [], commands: [], ms: 0 };
  if (options.keyless === true) ctx.state.keyless = true;
  const evidence = await setUp(ctx, options.backend);
  say(`  set-up      keys, signed policies, vulnerability database, TUF repository, signing service  ${TICK} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  for (const e of evidence) say(`                · ${e.what}${e.where === undefined ? '' : `: ${e.where}`}`);
  return 0;
}

/** Runs the stages from `first`; stops at the first refusal and records it in the summary. */
async function runSteps(ctx: DemoContext, first: number, summary: Summary, attack: Attack | undefined, options: DemoOptions, say: (line: string) => void): Promise<void> {
  for (const [i, step] of STEPS.entries()) {
    const record: StepRecord = { id: step.id, cncf: step.cncf, title: step.title, status: 'ok', evidence: [], commands: [], ms: 0 };
    summary.steps.push(record);
    const label = `  ${step.cncf.padEnd(6)}${step.id.padEnd(14)}`;
    if (i < first) {
      record.status = 'reused';
      say(`${label}${step.title}  (reused)`);
      continue;
    }
    ctx.current = record;
    const t0 = Date.now();
    // On a terminal, show the running step; its result line replaces it.
    const live = options.json !== true && process.stdout.isTTY;
    if (live) process.stdout.write(`${label}${step.title}  …`);
    const clear = (): void => {
      if (live) process.stdout.write('\r\x1b[K');
    };
    try {
      await step.run(ctx, record.evidence);
    } catch (e) {
      record.ms = Date.now() - t0;
      clear();
      if (!(e instanceof StageFailure)) throw e;
      record.status = 'refused';
      say(`${label}${step.title}  ${CROSS} refused`);
      for (const c of e.checks.length > 0 ? e.checks : [`${e.rule}: ${e.reason}`]) say(`                ${CROSS} ${c}`);
      summary.caught = { stage: e.stage, rule: e.rule, artifact: e.artifact, reason: e.reason, checks: e.checks, asExpected: attack !== undefined && attack.expect.stage === e.stage && attack.expect.rule === e.rule };
      return;
    }
    record.ms = Date.now() - t0;
    clear();
    say(`${label}${step.title}  ${TICK} ${(record.ms / 1000).toFixed(1)}s`);
    for (const ev of record.evidence) say(`                · ${ev.what}${ev.where === undefined ? '' : `: ${ev.where}`}${ev.detail === undefined ? '' : ` (${ev.detail})`}`);
    if (options.verbose === true) for (const c of record.commands) say(`                $ ${c}`);
  }
}

/** The closing lines and the exit code: 0 passed, 1 caught as expected (or the honest run refused), 3 not caught as expected. */
function conclude(summary: Summary, attack: Attack | undefined, keep: boolean, root: string, say: (line: string) => void): void {
  const seconds = (summary.durationMs / 1000).toFixed(1);
  const c = summary.caught;
  if (attack === undefined && c === undefined) {
    say(`== every step passed in ${seconds}s: the package was built, verified, signed, published, fetched and admitted.`);
    say(`   evidence: ${keep ? root : 'the work directory'}/attestations, release/, consumer/evidence, deploy/; server state in server/data`);
  } else if (attack === undefined) {
    summary.result = 'failed';
    say(`== the honest pipeline was refused at ${c?.stage ?? '?'}: this is a bug of the demo or of this machine`);
    process.exitCode = 1;
  } else if (c === undefined) {
    summary.result = 'not-caught';
    say(`== attack ${attack.name} was NOT caught: every step passed. This is a bug.`);
    process.exitCode = 3;
  } else {
    summary.result = 'caught';
    say(`== attack ${attack.name} CAUGHT at stage ${c.stage} by ${c.rule}${c.asExpected ? '' : ` (expected ${attack.expect.stage} / ${attack.expect.rule})`}`);
    say(`   artifact: ${c.artifact}`);
    say(`   reason:   ${c.reason}`);
    say(`   nothing after ${c.stage} ran: the package was not ${c.stage === 'deploy' ? 'deployed' : 'signed, published or deployed'} (${seconds}s)`);
    process.exitCode = c.asExpected ? 1 : 3;
  }
}

async function runDemo(options: DemoOptions): Promise<void> {
  if (options.attack === 'list') {
    listAttacks(options);
    return;
  }
  const attack = validate(options);
  const say = printer(options);
  const started = Date.now();
  const root = workDirectory(options);
  const keep = options.keep !== undefined;
  const ctx: DemoContext = { root, state: {}, attack: attack?.name, current: undefined, server: undefined, env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' } };
  const summary: Summary = { result: 'passed', durationMs: 0, steps: [] };
  if (attack !== undefined) summary.attack = { name: attack.name, threat: attack.threat, description: attack.description, expected: attack.expect };
  try {
    say('custody demo: the example secure supply chain (CNCF TAG Security, 15 steps) on examples/supply-chain/app');
    if (attack !== undefined) say(`attack: ${attack.name}: ${attack.description}`);
    say(`work directory: ${root}${keep ? ' (kept)' : ' (removed at the end; --keep DIR keeps it)'}`);
    const first = await prepare(ctx, options, attack, say);
    summary.backend = ctx.state.backend ?? 'file';
    if (ctx.state.keyless === true) summary.keyless = true;
    await runSteps(ctx, first, summary, attack, options, say);
    writeFileSync(join(root, 'state.json'), saveState(ctx));
    if (ctx.server !== undefined) {
      await ctx.server.close();
      ctx.server = undefined;
    }
    // An attack's evidence is uploaded too (up to the stage that refused it), so a dashboard shows the failed rule.
    if (options.server !== undefined && (summary.caught === undefined || attack !== undefined)) {
      const n = await upload(ctx, options.server, attack !== undefined, options.from);
      summary.uploaded = { server: options.server, attestations: n };
      say(`uploaded ${n} attestations to ${options.server}`);
    }
    summary.durationMs = Date.now() - started;
    if (keep) summary.workDir = root;
    conclude(summary, attack, keep, root, say);
    if (options.json === true) printJson(summary);
  } finally {
    if (ctx.server !== undefined) await ctx.server.close();
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}

export function demoCommand(): Command {
  return common(
    new Command('demo')
      .description('run the example secure supply chain end to end on a sample app (signed commit → … → deploy gate), or play an attack and show where it is caught')
      .option('--attack <name>', "play this attack ('list' names them); exit 1 when it is caught as expected, 3 when it is not")
      .option('--keep <dir>', 'work in this (new or empty) directory and keep it: keys, attestations, TUF repository, server data')
      .option('--from <dir>', 'with --attack: start from a copy of a run kept with --keep, at the stage the attack changes')
      .addOption(new Option('--backend <kind>', 'signing service key backend').choices(['auto', 'softhsm', 'file']).default('auto'))
      .option('--server <url>', "also upload every attestation (an attack's too, up to the refusal) to this custody server (token from $CUSTODY_TOKEN, role attester)")
      .option('--verbose', 'print the commands each step ran')
      .option('--keyless', "every attesting step signs keylessly: the demo server runs the CA, each step's ID token is minted by its workload issuer, the policies name identities (docs/keyless.md)")
      .action((o: DemoOptions) => runDemo(o)),
    'custody demo',
    'custody demo --attack list',
    'custody demo --keyless',
    'custody demo --attack compromised-build --json',
    'custody demo --keep /tmp/demo && custody demo --attack repo-rollback --from /tmp/demo',
  );
}
