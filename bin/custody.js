#!/usr/bin/env node
// Entry point: refuse old runtimes with one line, then run the TypeScript CLI (Node 24 strips types).
import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `custody: needs Node.js 24 or newer (this is ${process.version}); run it through npm ("npm run custody -- ...") which uses the project's own Node 24\n`,
  );
  process.exit(2);
}

/**
 * Node's module compile cache (V8 code cache, TypeScript already stripped) for the CLI's modules:
 * a command starts in about half the time. Whoever can write the cache can make custody run their
 * code, so it is used only in a directory of the user's own that nobody else can write: under
 * $XDG_CACHE_HOME or ~/.cache, created mode 0700, owned by this user (with sudo keeping HOME, a
 * user's cache is not used by root). NODE_COMPILE_CACHE (its place) and NODE_DISABLE_COMPILE_CACHE=1
 * (off) are Node's own variables and take precedence.
 */
function enableCompileCache() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE !== undefined || process.env.NODE_COMPILE_CACHE !== undefined) return;
  try {
    // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
    const xdg = process.env.XDG_CACHE_HOME;
    const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.cache');
    if (!base.startsWith('/')) return;
    const dir = join(base, 'custody', 'node-compile-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const d of [join(base, 'custody'), dir]) {
      const st = lstatSync(d);
      if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return;
    }
    module.enableCompileCache?.(dir);
  } catch {
    // No cache: slower start, same behaviour.
  }
}

enableCompileCache();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
