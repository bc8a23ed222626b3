#!/usr/bin/env node
// Entry point: refuse old runtimes with one line, then run the TypeScript CLI (Node 24 strips types).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `custody: needs Node.js 24 or newer (this is ${process.version}); run it through npm ("npm run custody -- ...") which uses the project's own Node 24\n`,
  );
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
