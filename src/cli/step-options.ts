// Flags shared by `custody run` and `custody record`: how artifacts are recorded, which key
// signs, and where and how the link is written.
import { join } from 'node:path';
import type { Command } from 'commander';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type PrivateKey } from '../core/index.ts';
import { addSignature, formatLikeReference, linkFileName, metadataToJson, type Link, type SignedLink } from '../formats/index.ts';
import { linkToStatement, type RecordOptions } from '../attest/index.ts';
import { loadPrivateKeyFile } from '../keys/index.ts';
import { collect, passphraseFromEnv, writeFileAtomic } from './io.ts';

export interface ArtifactFlags {
  exclude?: string[];
  basePath?: string;
  lstripPaths?: string[];
  normalizeLineEndings?: boolean;
  followSymlinkDirs?: boolean;
}

export interface KeyFlags {
  key: string;
  passphraseEnv?: string;
}

export function addArtifactFlags(command: Command): Command {
  return command
    .option('--exclude <pattern>', 'gitignore-style pattern of paths not to record; repeat for several (replaces the defaults *.link*, .git, *.pyc, *~, as in-toto-run --exclude does)', collect)
    .option('--base-path <dir>', 'directory the artifact paths are relative to (default: the current directory)')
    .option('--lstrip-paths <prefix>', 'left-strip this prefix from recorded paths; repeat for several', collect)
    .option('--normalize-line-endings', 'hash text with CRLF/CR line endings as if they were LF')
    .option('--no-follow-symlink-dirs', 'do not descend into symlinked directories (they are always kept inside the base path)');
}

export function recordOptionsFrom(flags: ArtifactFlags, onProgress?: RecordOptions['onProgress']): RecordOptions {
  const options: RecordOptions = {
    excludes: flags.exclude ?? [],
    lstripPaths: flags.lstripPaths ?? [],
    normalizeLineEndings: flags.normalizeLineEndings === true,
    followSymlinkDirs: flags.followSymlinkDirs !== false,
  };
  if (flags.basePath !== undefined) options.basePath = flags.basePath;
  if (onProgress !== undefined) options.onProgress = onProgress;
  return options;
}

export function loadSigningKey(flags: KeyFlags): PrivateKey {
  return loadPrivateKeyFile(flags.key, passphraseFromEnv(flags.passphraseEnv));
}

/** Signs the link (v0.9 metablock, or DSSE link v0.3 statement) and writes it; returns the path. */
export async function writeSignedLink(link: Link, key: PrivateKey, outDir: string, dsse: boolean): Promise<string> {
  const signer = key.signer();
  const path = join(outDir, linkFileName(link.name, signer.keyid));
  if (dsse) {
    const statement = linkToStatement(link);
    const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), [signer]);
    writeFileAtomic(path, `${JSON.stringify(envelope)}\n`);
  } else {
    const unsigned: SignedLink = { type: 'link', signed: link, signatures: [] };
    const signed = await addSignature(unsigned, signer);
    writeFileAtomic(path, formatLikeReference(metadataToJson(signed)));
  }
  return path;
}
