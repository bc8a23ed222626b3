// Starts and stops server child processes (test/support/serve-process.ts) for crash, multi-process
// and load tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./serve-process.ts', import.meta.url));

export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** Everything the child wrote to stderr (its JSON logs), for diagnosing failures. */
  stderr: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnServer(args: string[], options: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => {
    if (options.quiet !== true) stderr.push(chunk.toString());
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`server exited (${code}) before listening: ${stderr.join('')}`));
    child.once('exit', onExit);
    lines.once('line', (line) => {
      child.removeListener('exit', onExit);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return {
    url,
    child,
    stderr,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
