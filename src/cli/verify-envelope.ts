// custody verify-envelope: check a DSSE envelope's signatures (threshold over distinct keys) and,
// for in-toto statements, that given artifacts are among its subjects.
import { Command } from 'commander';
import {
  IN_TOTO_PAYLOAD_TYPE,
  VerificationError,
  digestFile,
  parseEnvelope,
  parseJson,
  parseStatement,
  subjectsMatching,
  verifyEnvelope,
} from '../core/index.ts';
import { loadPublicKeyFile } from '../keys/index.ts';
import { collect, common, output, parsePositiveInt, readFileOrFail, type CommonOptions } from './io.ts';

interface VerifyEnvelopeCliOptions extends CommonOptions {
  key: string[];
  threshold: number;
  artifact?: string[];
}

async function verifyEnvelopeFile(file: string, options: VerifyEnvelopeCliOptions): Promise<void> {
  const keys = options.key.map((k) => loadPublicKeyFile(k));
  const envelope = parseEnvelope(parseJson(readFileOrFail(file, 'envelope'), `envelope ${file}`));
  const verified = verifyEnvelope(envelope, keys, { threshold: options.threshold });
  const artifacts = options.artifact ?? [];
  if (verified.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    if (artifacts.length > 0) {
      throw new VerificationError('PAYLOAD_TYPE_MISMATCH', `${file}: payloadType '${verified.payloadType}' is not an in-toto statement, so --artifact cannot be checked`);
    }
    output(options, { verified: true, payloadType: verified.payloadType, keyids: verified.keyids }, `verified: ${file} signed by ${verified.keyids.join(', ')} (payloadType ${verified.payloadType})`);
    return;
  }
  const statement = parseStatement(parseJson(verified.payload, `statement in ${file}`));
  const artifactResults = [];
  for (const artifact of artifacts) {
    const digest = await digestFile(artifact, ['sha256', 'sha512']);
    const matches = subjectsMatching(statement, digest);
    if (matches.length === 0) {
      throw new VerificationError('SUBJECT_MISMATCH', `${artifact} (sha256:${digest['sha256'] ?? ''}) is not a subject of ${file}`);
    }
    artifactResults.push({ artifact, sha256: digest['sha256'], subject: matches[0]?.name });
  }
  output(
    options,
    { verified: true, keyids: verified.keyids, predicateType: statement.predicateType, subject: statement.subject, artifacts: artifactResults },
    [
      `verified: ${file}`,
      `  signed by:      ${verified.keyids.join(', ')}`,
      `  predicate type: ${statement.predicateType}`,
      ...statement.subject.map((s) => `  subject:        ${s.name ?? s.uri ?? ''} ${Object.entries(s.digest ?? {}).map(([a, v]) => `${a}:${v}`).join(' ')}`),
      ...artifactResults.map((a) => `  artifact ok:    ${a.artifact}`),
    ],
  );
}

export function verifyEnvelopeCommand(): Command {
  return common(
    new Command('verify-envelope')
      .description('verify a DSSE envelope: signatures by trusted keys (threshold over distinct keys) and artifacts among its subjects')
      .argument('<file>', 'DSSE envelope (JSON)')
      .requiredOption('--key <file>', 'a trusted public key; repeat for several', collect)
      .option('--threshold <n>', 'distinct trusted keys that must have signed', parsePositiveInt, 1)
      .option('--artifact <file>', 'a file whose digest must be a subject; repeat for several', collect)
      .action((file: string, o: VerifyEnvelopeCliOptions) => verifyEnvelopeFile(file, o)),
    'custody verify-envelope app.att.json --key alice.pub --artifact dist/app.tgz',
  );
}
