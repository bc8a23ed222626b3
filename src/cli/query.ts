// custody query: find attestations on a server by subject (a file or a digest), predicate type,
// signer, step and time; or print an artifact's provenance graph.
import { Command } from 'commander';
import { InputError } from '../core/index.ts';
import { subjectDigest, type QueryFilters } from '../server/index.ts';
import { common, output, parsePositiveInt, type CommonOptions } from './io.ts';
import { addServerOption, client, type TargetOptions } from './server-target.ts';

interface QueryOptions extends CommonOptions, TargetOptions {
  subject?: string;
  predicateType?: string;
  signer?: string;
  step?: string;
  since?: string;
  limit?: number;
  all?: boolean;
  graph?: boolean;
  depth?: number;
  namespace?: string;
}

async function query(options: QueryOptions): Promise<void> {
  const c = client(options);
  const subject = options.subject === undefined ? undefined : await subjectDigest(options.subject);
  if (options.graph === true) {
    if (subject === undefined) throw new InputError('USAGE', '--graph needs --subject');
    const graph = await c.graph(subject, { ...(options.depth === undefined ? {} : { depth: options.depth }), ...(options.namespace === undefined ? {} : { namespace: options.namespace }) });
    output(options, graph, [
      ...graph.artifacts.map((a) => `${'  '.repeat(a.depth)}${a.digest.algorithm}:${a.digest.value}`),
      `${graph.attestations.length} attestation(s)${graph.truncated ? ' (truncated)' : ''}`,
    ]);
    return;
  }
  const filters: QueryFilters = {
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(subject === undefined ? {} : { subject }),
    ...(options.predicateType === undefined ? {} : { predicateType: options.predicateType }),
    ...(options.signer === undefined ? {} : { signer: options.signer }),
    ...(options.step === undefined ? {} : { step: options.step }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
  const items = [];
  if (options.all === true) for await (const item of c.queryAll(filters)) items.push(item);
  else items.push(...(await c.query(filters)).items);
  output(
    options,
    items,
    items.map((i) => `${i.id}  ${i.createdAt}  ${i.predicateType}${i.step === undefined ? '' : ` step=${i.step}`}  ${i.verification.status}`),
  );
}

export function queryCommand(): Command {
  return common(
    addServerOption(
      new Command('query')
        .description('find attestations on a server (newest first), or an artifact\'s provenance graph')
        .option('--subject <file|digest>', 'a file (hashed here) or ALGORITHM:HEX')
        .option('--predicate-type <uri>', 'predicate type')
        .option('--signer <keyid>', 'key id of a trusted signer')
        .option('--step <name>', 'step name')
        .option('--since <time>', 'stored at or after this ISO 8601 time')
        .option('--limit <n>', 'page size (default 100)', parsePositiveInt)
        .option('--all', 'follow the cursor through every page')
        .option('--graph', 'print the provenance graph of --subject instead')
        .option('--depth <n>', 'graph depth (material hops, default 3)', (v: string) => Number.parseInt(v, 10))
        .option('--namespace <name>', 'namespace (default "default")'),
    ).action((o: QueryOptions) => query(o)),
    'custody query --server http://127.0.0.1:8420 --subject dist/app.tgz',
    'custody query --server http://127.0.0.1:8420 --subject sha256:… --graph --depth 5',
  );
}
