import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { ConfigError, DataError } from '../core/errors.js';
import { embed } from '../models/embed.js';
import { searchMany } from '../search/batch.js';
import type { IndexId, SearchFilter, SearchHit } from '../search/types.js';
import { openRunContext } from '../server/context.js';
import { readInputs } from './inputs.js';

type StartBackend = (opts: { backend?: string; threads?: number }) => Promise<void>;

/** One query's neighbours as printed by `akin search`. */
export interface QueryResult {
  query: string;
  results: SearchHit[];
}

/** Fixed-width text of search results: rank, id, score, label/class. */
export function formatResults(results: QueryResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`query ${r.query}`);
    lines.push(`  ${'rank'.padEnd(6)}${'id'.padEnd(10)}${'score'.padEnd(10)}metadata`);
    r.results.forEach((h, i) => {
      lines.push(`  ${String(i + 1).padEnd(6)}${String(h.id).padEnd(10)}${h.score.toFixed(4).padEnd(10)}${h.metadata ? JSON.stringify(h.metadata) : ''}`);
    });
  }
  return lines.join('\n');
}

/** Registers `akin search`. */
export function addSearchCommand(program: Command, startBackend: StartBackend): void {
  program
    .command('search')
    .description("search a run's index (see 'akin index build') by inputs in a file or by an indexed item's id; a pgvector index takes its password from PGPASSWORD or ~/.pgpass")
    .requiredOption('--run <dir>', 'run folder')
    .option('--query <file>', "inputs to search for in the run's input kind (images: .npy, IDX or .jsonl; text: .txt lines or .jsonl; tabular: .csv), one query per row")
    .option('--id <id>', "an indexed item's id (its own entry is left out of the results)")
    .option('--k <n>', 'neighbours per query', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--k must be an integer >= 1');
      return n;
    }, 10)
    .option('--filter <json>', 'metadata filter, e.g. \'{"label": 5}\'')
    .option('--json', 'print JSON')
    .action(async (opts: { run: string; query?: string; id?: string; k: number; filter?: string; json?: boolean }) => {
      if ((opts.query === undefined) === (opts.id === undefined)) throw new ConfigError('search: give exactly one of --query FILE or --id N');
      let filter: SearchFilter | undefined;
      if (opts.filter !== undefined) {
        try {
          filter = JSON.parse(opts.filter) as SearchFilter;
        } catch (e) {
          throw new ConfigError(`search: --filter is not valid JSON (${(e as Error).message})`);
        }
      }
      await startBackend(program.opts());
      const ctx = await openRunContext(resolve(opts.run), { loadItems: false });
      const out: QueryResult[] = [];
      if (opts.id !== undefined) {
        const id: IndexId = /^-?\d+$/.test(opts.id) ? Number(opts.id) : opts.id;
        const v = await ctx.index.getVector(id);
        if (!v) throw new DataError(`search: --id ${opts.id} is not in the index`);
        const hits = await ctx.index.search(v, opts.k + 1, { filter });
        out.push({ query: `id ${opts.id}`, results: hits.filter((h) => h.id !== id).slice(0, opts.k) });
      } else {
        const rows = ctx.inputs ? await ctx.inputs.read(opts.query!) : await readInputs(opts.query!, ctx.inputShape.reduce((a, b) => a * b, 1));
        const { embeddings } = await embed(ctx.model, rows.features, rows.count, ctx.inputShape);
        const batches = await searchMany(ctx.index, embeddings, opts.k, { filter });
        batches.forEach((results, i) => out.push({ query: `${opts.query}[${i}]`, results }));
      }
      process.stdout.write(opts.json ? `${JSON.stringify(out, null, 2)}\n` : `${formatResults(out)}\n`);
      await ctx.index.close?.();
    });
}
