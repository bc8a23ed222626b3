// custody push FILE...: upload attestations (DSSE envelopes, Sigstore bundles, or JSON Lines of
// them) to a server, exactly as they are in the files.
import { Command } from 'commander';
import { readDocuments } from '../server/index.ts';
import { common, output, type CommonOptions } from './io.ts';
import { addServerOption, client, type TargetOptions } from './server-target.ts';

interface PushOptions extends CommonOptions, TargetOptions {
  namespace?: string;
}

async function push(files: string[], options: PushOptions): Promise<void> {
  const documents = files.flatMap((f) => readDocuments(f));
  const results = await client(options).push(documents, options.namespace);
  output(
    options,
    results,
    results.map((r) => `${r.created ? 'stored ' : 'present'} ${r.id}  ${r.predicateType}  ${r.verification.status}${r.verification.code === undefined ? '' : ` (${r.verification.code})`}`),
  );
}

export function pushCommand(): Command {
  return common(
    addServerOption(
      new Command('push')
        .description('upload attestations to a server (token from $CUSTODY_TOKEN)')
        .argument('<file...>', 'DSSE envelope, Sigstore bundle, or .jsonl file of them')
        .option('--namespace <name>', 'namespace to store them in (default "default")'),
    ).action((files: string[], o: PushOptions) => push(files, o)),
    'custody push --server http://127.0.0.1:8420 build.intoto.jsonl app.att.json',
  );
}
