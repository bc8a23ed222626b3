// custody init: the .custody/ directory with a commented server config for the embedded default
// (SQLite in .custody/server). Other parts (keys, policy) are added by their own commands.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { InputError } from '../core/index.ts';
import { defaultConfigText } from '../server/index.ts';
import { common, output, writeFileAtomic, type CommonOptions } from './io.ts';

interface InitOptions extends CommonOptions {
  dir: string;
  force?: boolean;
}

function init(options: InitOptions): void {
  const config = join(options.dir, 'server.yaml');
  if (existsSync(config) && options.force !== true) throw new InputError('USAGE', `${config} already exists; pass --force to overwrite`);
  mkdirSync(join(options.dir, 'server'), { recursive: true });
  writeFileAtomic(config, defaultConfigText());
  output(options, { config, dataDir: join(options.dir, 'server') }, [
    `wrote ${config}`,
    'next:',
    `  custody token create --config ${config} --role admin     # first admin token, offline`,
    `  custody serve --config ${config}`,
  ]);
}

export function initCommand(): Command {
  return common(
    new Command('init')
      .description('create .custody/ with a commented server config (SQLite store in .custody/server)')
      .option('--dir <dir>', 'directory to create', '.custody')
      .option('--force', 'overwrite an existing config')
      .action((o: InitOptions) => init(o)),
    'custody init',
  );
}
