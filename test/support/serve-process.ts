// Runs `custody serve` in a child process for tests and benchmarks (what the CLI's serve command
// does): arguments --config F, --data DIR, --listen HOST:PORT. Prints one JSON line {"url": …}
// on stdout once listening; logs go to stderr.
import { parseArgs } from 'node:util';
import { startServer } from '../../src/server/index.ts';

const { values } = parseArgs({ options: { config: { type: 'string' }, data: { type: 'string' }, listen: { type: 'string' } } });
const server = await startServer({
  ...(values.config === undefined ? {} : { config: values.config }),
  ...(values.data === undefined ? {} : { data: values.data }),
  listen: values.listen ?? '127.0.0.1:0',
  logStream: process.stderr,
  handleSignals: true,
});
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
