// `custody run --hermetic`: what the sandbox refuses (network, writes outside the declared
// outputs, undeclared files, variables not passed) and, as the control, that the same commands
// succeed with --no-hermetic or with the access declared.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { runBuildStep } from '../../src/build/index.ts';
import { custody, tempDir } from '../support/cli.ts';
import { haveComponents } from '../support/components.ts';

const dir = tempDir('custody-sandbox-');
let port = 0;
let server: Server;

before(async () => {
  custody(['key', 'generate', '--out', join(dir.path, 'k')]);
  mkdirSync(join(dir.path, 'ws', 'src'), { recursive: true });
  writeFileSync(join(dir.path, 'ws', 'src', 'in.txt'), 'declared input\n');
  writeFileSync(join(dir.path, 'ws', 'secret.txt'), 'not declared\n');
  server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('hello\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

after(() => {
  server.close();
  dir[Symbol.dispose]();
});

interface Outcome {
  status: number;
  stderr: string;
}

/** The step in-process (runBuildStep, what `custody run` calls), hermetic or not. */
async function step(mode: '--hermetic' | '--no-hermetic', command: string[], extra: string[] = [], env: Record<string, string> = {}): Promise<Outcome> {
  const passEnv: Record<string, string> = {};
  for (let i = 0; i < extra.length; i += 2) if (extra[i] === '--pass-env') passEnv[extra[i + 1]!] = env[extra[i + 1]!] ?? '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const r = await runBuildStep({ name: 's', dir: join(dir.path, 'ws'), materials: ['src'], products: ['out'], command, env: passEnv, tools: [], hermetic: mode === '--hermetic', passThrough: false });
    return { status: r.returnValue, stderr: r.stderr };
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  }
}

async function status(...args: Parameters<typeof step>): Promise<number> {
  return (await step(...args)).status;
}

const connect = (p: number): string[] => ['node', '-e', `require('net').connect(${p}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(7))`];

describe('custody run --hermetic', () => {
  it('has no network: a listening port on the host cannot be reached', async (t) => {
    if (!haveComponents(t, 'bwrap')) return;
    assert.equal(await status('--hermetic', connect(port)), 7);
    assert.equal(await status('--no-hermetic', connect(port)), 0);
  });

  it('cannot write outside the declared output directories', async (t) => {
    if (!haveComponents(t, 'bwrap')) return;
    const inside = await step('--hermetic', ['sh', '-c', 'echo ok > out/made.txt']);
    assert.equal(inside.status, 0);
    assert.ok(existsSync(join(dir.path, 'ws', 'out', 'made.txt')));
    assert.notEqual(await status('--hermetic', ['sh', '-c', 'echo x > stray.txt']), 0);
    assert.notEqual(await status('--hermetic', ['sh', '-c', 'echo x > src/stray.txt']), 0, 'materials are read-only');
    // An absolute host path is not even there: /tmp inside is a fresh tmpfs.
    const hostFile = join(dir.path, 'escaped.txt');
    await step('--hermetic', ['sh', '-c', `mkdir -p ${dir.path} && echo x > ${hostFile}`]);
    assert.equal(existsSync(hostFile), false);
    assert.equal(existsSync(join(dir.path, 'ws', 'stray.txt')), false);
  });

  it('cannot read an undeclared file', async (t) => {
    if (!haveComponents(t, 'bwrap')) return;
    assert.equal(await status('--hermetic', ['cat', 'src/in.txt']), 0);
    assert.notEqual(await status('--hermetic', ['cat', 'secret.txt']), 0);
    assert.notEqual(await status('--hermetic', ['cat', join(dir.path, 'ws', 'secret.txt')]), 0);
    assert.notEqual(await status('--hermetic', ['cat', join(dir.path, 'k.key')]), 0, 'the signing key stays outside');
    assert.equal(await status('--no-hermetic', ['cat', 'secret.txt']), 0);
  });

  it('cannot read an environment variable that was not passed', async (t) => {
    if (!haveComponents(t, 'bwrap')) return;
    const probe = ['sh', '-c', 'test "${CUSTODY_TEST_SECRET:-}" = s3cret || exit 9'];
    const env = { CUSTODY_TEST_SECRET: 's3cret' };
    assert.equal(await status('--hermetic', probe, [], env), 9);
    assert.equal(await status('--hermetic', probe, ['--pass-env', 'CUSTODY_TEST_SECRET'], env), 0);
    assert.equal(await status('--no-hermetic', probe, [], env), 0);
  });

  it('runs as a fresh uid in fresh pid and uts namespaces', async (t) => {
    if (!haveComponents(t, 'bwrap')) return;
    const r = await step('--hermetic', ['sh', '-c', 'test "$(id -u)" = 1000 && test "$$" -lt 10 && test "$(cat /proc/sys/kernel/hostname)" = sandbox && test "$HOME" = /home/builder && touch "$HOME/x" /tmp/y']);
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('custody run --hermetic (command line)', () => {
  it('sandboxes the command and says so', (t) => {
    if (!haveComponents(t, 'bwrap')) return;
    const cwd = join(dir.path, 'ws');
    const args = ['run', '--step', 's', '--key', join(dir.path, 'k.key'), '-m', 'src', '-p', 'out', '-d', join(dir.path, 'links'), '--json'];
    const probe = ['--', 'sh', '-c', 'cat secret.txt 2>/dev/null && exit 5; test -n "${CUSTODY_TEST_SECRET:-}" && exit 6; exit 0'];
    const env = { CUSTODY_TEST_SECRET: 's3cret' };
    const hermetic = custody([...args, '--hermetic', ...probe], { cwd, env });
    assert.equal(hermetic.status, 0, hermetic.stderr);
    assert.equal((JSON.parse(hermetic.stdout) as { hermetic: boolean }).hermetic, true);
    assert.equal(custody([...args, '--no-hermetic', ...probe], { cwd, env }).status, 5);
  });

  it('--provenance --no-hermetic runs unsandboxed and the provenance says so', (t) => {
    if (!haveComponents(t, 'bwrap')) return;
    const cwd = join(dir.path, 'ws');
    const r = custody(['run', '--step', 'loose', '--key', join(dir.path, 'k.key'), '--provenance', '--no-hermetic', '-m', 'src', '-p', 'out', '-d', join(dir.path, 'links'), '--json', '--', 'sh', '-c', 'echo loose > out/loose.txt'], { cwd });
    assert.equal(r.status, 0, r.stderr);
    const { provenance } = JSON.parse(r.stdout) as { provenance: string };
    const envelope = JSON.parse(readFileSync(provenance, 'utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      predicate: { buildDefinition: { externalParameters: { hermetic: boolean }; internalParameters: Record<string, unknown> }; runDetails: { builder: { id: string } } };
    };
    assert.equal(statement.predicate.buildDefinition.externalParameters.hermetic, false);
    assert.equal(statement.predicate.buildDefinition.internalParameters['sandbox'], undefined);
    assert.equal(statement.predicate.runDetails.builder.id, 'https://custody.dev/builder/unsandboxed/v1');
  });

  it('refuses --provenance when the sandbox is unavailable', () => {
    const empty = join(dir.path, 'empty-path');
    mkdirSync(empty, { recursive: true });
    const r = custody(['run', '--step', 's', '--key', join(dir.path, 'k.key'), '--provenance', '-m', 'src', '-p', 'out', '-d', join(dir.path, 'links'), '--', 'true'], { cwd: join(dir.path, 'ws'), env: { PATH: empty } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /\[SANDBOX_UNAVAILABLE\]/);
  });
});
