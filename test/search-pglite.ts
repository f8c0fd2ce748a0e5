/**
 * A PostgreSQL server with pgvector for tests: PGlite (Postgres compiled to WebAssembly) with its
 * pgvector extension, served over the Postgres wire protocol on a loopback ephemeral port by
 * pglite-socket. Start it once per test file (about 10 s).
 */
export interface PgTestServer {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` (PGlite accepts any password). */
  url: string;
  stop(): Promise<void>;
}

export async function startPgServer(): Promise<PgTestServer> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  return {
    url: `postgres://postgres:test-password@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
