import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { openRunContext } from '../server/context.js';
import { checkExposure } from '../server/auth.js';
import { startServer } from '../server/serve.js';

type StartBackend = (opts: { backend?: string; threads?: number }) => Promise<void>;

/** Registers `akin serve`. */
export function addServeCommand(program: Command, startBackend: StartBackend): void {
  program
    .command('serve')
    .description("serve a run over HTTP: JSON API (/embed, /search, /match, /similarity, /health, /info) and a browser projector at /")
    .requiredOption('--run <dir>', 'run folder (with an index: akin index build; a pgvector index takes its password from PGPASSWORD or ~/.pgpass)')
    .option('--host <host>', 'address to bind; other than loopback needs --token', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be an integer in [0, 65535]');
      return n;
    }, 7860)
    .option('--token <token>', 'require "Authorization: Bearer <token>" (default: $AKIN_TOKEN)')
    .option('--body-limit <bytes>', 'largest request body', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1024) throw new InvalidArgumentError('--body-limit must be an integer >= 1024');
      return n;
    }, 4 * 1024 * 1024)
    .action(async (opts: { run: string; host: string; port: number; token?: string; bodyLimit: number }) => {
      const token = opts.token ?? process.env.AKIN_TOKEN ?? undefined;
      checkExposure(opts.host, token);
      await startBackend(program.opts());
      const runDir = resolve(opts.run);
      const ctx = await openRunContext(runDir);
      const s = await startServer(ctx, { host: opts.host, port: opts.port, token, bodyLimit: opts.bodyLimit, runDir });
      process.stderr.write(`serving ${ctx.index.size} items (${ctx.index.kind}) at ${s.url}/${token ? ' (token required)' : ''}\n`);
      const stop = (): void => {
        void s.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
