// Plumbing shared by the materials commands (sbom, scan, vex, vuln): tool identity, the time
// SOURCE_DATE_EPOCH fixes, and signing a statement into a DSSE envelope.
import { readFileSync } from 'node:fs';
import { IN_TOTO_PAYLOAD_TYPE, InputError, signEnvelope, type Statement } from '../core/index.ts';
import { loadPrivateKeyFile } from '../keys/index.ts';

export function toolInfo(): { name: string; version: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return { name: 'custody', version: pkg.version };
}

/** The build time: SOURCE_DATE_EPOCH (reproducible-builds.org spec) when set, else now. */
export function buildTime(): { date: Date; fixed: boolean } {
  const v = process.env['SOURCE_DATE_EPOCH'];
  if (v === undefined || v === '') return { date: new Date(), fixed: false };
  if (!/^\d+$/.test(v)) throw new InputError('USAGE', `SOURCE_DATE_EPOCH must be an integer number of seconds (got '${v}')`);
  return { date: new Date(Number(v) * 1000), fixed: true };
}

export async function signStatement(statement: Statement, keyFiles: string[], passphrase: string | undefined): Promise<string> {
  const signers = keyFiles.map((k) => loadPrivateKeyFile(k, passphrase).signer());
  const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), signers);
  return `${JSON.stringify(envelope)}\n`;
}
