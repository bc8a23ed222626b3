// File and directory names the in-toto reference uses for v0.9 metadata (models/link.py,
// models/layout.py), so custody reads and writes the same files as in-toto-run and in-toto-verify.
import { fail } from './json-value.ts';

/** A step name becomes part of a file name: refuse names that would leave the directory. */
export function checkStepNameForFile(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    fail('PATH_INVALID', `step name '${name}' cannot be used in a file name`);
  }
}

/** Python's `'{keyid:.8}'`: the first 8 characters (code points) of the key id. */
function keyid8(keyid: string): string {
  return [...keyid].slice(0, 8).join('');
}

/** `<step>.<keyid8>.link` (FILENAME_FORMAT). */
export function linkFileName(stepName: string, keyid: string): string {
  checkStepNameForFile(stepName);
  return `${stepName}.${keyid8(keyid)}.link`;
}

/** `.<step>.<keyid8>.link-unfinished` (UNFINISHED_FILENAME_FORMAT), written by `record start`. */
export function unfinishedLinkFileName(stepName: string, keyid: string): string {
  checkStepNameForFile(stepName);
  return `.${stepName}.${keyid8(keyid)}.link-unfinished`;
}

/** `<name>.link` (FILENAME_FORMAT_SHORT): the unsigned link an inspection leaves behind. */
export function inspectionLinkFileName(name: string): string {
  checkStepNameForFile(name);
  return `${name}.link`;
}

/** `<step>.<keyid8>` (SUBLAYOUT_LINK_DIR_FORMAT): where a sublayout's links live. */
export function sublayoutLinkDirName(stepName: string, keyid: string): string {
  checkStepNameForFile(stepName);
  return `${stepName}.${keyid8(keyid)}`;
}
