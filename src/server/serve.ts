import type { FastifyInstance } from 'fastify';
import { checkExposure } from './auth.js';
import { createApp, type AppOptions } from './app.js';
import type { ServeContext } from './context.js';

/** Options of {@link startServer}. */
export interface ServeOptions extends AppOptions {
  /** Address to bind. Default `127.0.0.1`; another address needs `token`. */
  host?: string;
  /** Port; 0 lets the OS choose. Default 7860. */
  port?: number;
}

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance;
  /** Base URL, e.g. `http://127.0.0.1:7860`. */
  url: string;
  close(): Promise<void>;
}

/** Starts the HTTP API on `host:port` (loopback unless a token is given). */
export async function startServer(ctx: ServeContext, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  checkExposure(host, options.token);
  const app = await createApp(ctx, options);
  await app.listen({ host, port: options.port ?? 7860 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { app, url, close: () => app.close() };
}
