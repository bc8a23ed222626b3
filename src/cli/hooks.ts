// custody hooks install: pre-commit (scan staged files for secrets) and pre-push (scan pushed
// objects, verify pushed refs against the source policy when there is one).
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { InputError } from '../core/index.ts';
import { GitRepo, HOOK_MARKER, preCommitHook, prePushHook } from '../source/index.ts';
import { common, output, writeFileAtomic, type CommonOptions } from './io.ts';

interface InstallOptions extends CommonOptions {
  repo: string;
  force?: boolean;
  policy: string;
  command?: string;
}

function install(options: InstallOptions): void {
  const repo = new GitRepo(options.repo);
  const hooksPath = repo.text(['rev-parse', '--git-path', 'hooks']).trim();
  const dir = isAbsolute(hooksPath) ? hooksPath : resolve(options.repo, hooksPath);
  mkdirSync(dir, { recursive: true });
  // By default the hooks run this very custody with this very Node (24+).
  const command = options.command !== undefined ? options.command.split(' ').filter((s) => s !== '') : [process.execPath, fileURLToPath(new URL('../../bin/custody.js', import.meta.url))];
  const written: string[] = [];
  for (const [name, body] of [
    ['pre-commit', preCommitHook(command)],
    ['pre-push', prePushHook(command, options.policy)],
  ] as const) {
    const path = join(dir, name);
    if (existsSync(path) && options.force !== true && !readFileSync(path, 'utf8').includes(HOOK_MARKER)) {
      throw new InputError('USAGE', `${path} exists and was not installed by custody; pass --force to replace it`);
    }
    writeFileAtomic(path, body, 0o755);
    chmodSync(path, 0o755);
    written.push(path);
  }
  output(options, { hooks: written }, written.map((p) => `installed ${p}`));
}

export function hooksCommand(): Command {
  const hooks = new Command('hooks').description('git hooks that run custody checks');
  common(
    hooks
      .command('install')
      .description('install pre-commit (secret scan of staged files) and pre-push (secret scan of pushed objects; source verify when a policy exists) hooks')
      .option('--repo <dir>', 'git repository', '.')
      .option('--policy <file>', 'source policy the pre-push hook verifies against, when the file exists', '.custody/source.yaml')
      .option('--command <cmd>', 'how the hooks invoke custody (default: this Node and this custody)')
      .option('--force', 'replace existing hooks not installed by custody')
      .action((o: InstallOptions) => install(o)),
    'custody hooks install',
    'custody hooks install --command "npx custody"',
  );
  return hooks;
}
