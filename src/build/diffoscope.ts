// diffoscope (https://diffoscope.org) as the explainer of a failed rebuild: text and HTML reports
// that name the bytes that differ, recursing into archives (a .tgz down to the file and offset).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/index.ts';

export interface DiffoscopeReport {
  /** diffoscope's exit code: 0 identical, 1 different, 2 error. */
  exitCode: number;
  textPath: string;
  htmlPath: string;
  text: string;
}

/** Compares two files or directories, writing `<name>.diffoscope.txt` and `.html` into outDir. */
export function runDiffoscope(original: string, rebuilt: string, outDir: string, name: string, timeoutMs = 300_000): Promise<DiffoscopeReport> {
  const textPath = join(outDir, `${name}.diffoscope.txt`);
  const htmlPath = join(outDir, `${name}.diffoscope.html`);
  return new Promise((resolve, reject) => {
    const child = spawn('diffoscope', ['--no-progress', '--text', textPath, '--html', htmlPath, '--exclude-directory-metadata', 'yes', original, rebuilt], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new InputError('USAGE', `cannot run diffoscope: ${e.code === 'ENOENT' ? 'not installed (apt-get install diffoscope-minimal)' : e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      const exitCode = code ?? 2;
      if (exitCode > 1 || !existsSync(textPath)) {
        reject(new InputError('USAGE', `diffoscope failed (exit ${exitCode}): ${stderr.trim().split('\n').pop() ?? ''}`));
        return;
      }
      resolve({ exitCode, textPath, htmlPath, text: readFileSync(textPath, 'utf8') });
    });
  });
}
