// custody digest PATH...
import { Command, Option } from 'commander';
import { DIGEST_ALGORITHMS, digestFile, type DigestAlgorithm } from '../core/index.ts';
import { collect, common, output, type CommonOptions } from './io.ts';

interface DigestOptions extends CommonOptions {
  algorithm?: DigestAlgorithm[];
}

async function digest(paths: string[], options: DigestOptions): Promise<void> {
  const algorithms = options.algorithm ?? ['sha256'];
  const results = [];
  for (const path of paths) results.push({ path, digest: await digestFile(path, algorithms) });
  output(
    options,
    results,
    results.flatMap((r) => Object.entries(r.digest).map(([a, v]) => `${a}:${v}  ${r.path}`)),
  );
}

export function digestCommand(): Command {
  return common(
    new Command('digest')
      .description('print the digests of files (streamed; any size)')
      .argument('<path...>', 'files to hash')
      .addOption(
        new Option('-a, --algorithm <name>', 'digest algorithm; repeat for several (default sha256)')
          .choices(DIGEST_ALGORITHMS)
          .argParser((v: string, prev: string[] | undefined) => collect(v, prev)),
      )
      .action((paths: string[], o: DigestOptions) => digest(paths, o)),
    'custody digest dist/app.tgz',
    'custody digest -a sha256 -a sha512 --json dist/app.tgz',
  );
}
