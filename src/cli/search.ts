import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { ConfigError, DataError } from '../core/errors.js';
import { embed } from '../models/embed.js';
import { type PickedThreshold, pickThreshold, ThresholdError } from '../eval/thresholds.js';
import { searchMany } from '../search/batch.js';
import type { IndexId, SearchFilter, SearchHit } from '../search/types.js';
import { openRunContext } from '../server/context.js';
import { readInputs } from './inputs.js';

type StartBackend = (opts: { backend?: string; threads?: number }) => Promise<void>;

/** A hit of `akin search`; `match` is present when a threshold applies (distance within it). */
export type MatchedHit = SearchHit & { match?: boolean };

/** One query's neighbours as printed by `akin search`. */
export interface QueryResult {
  query: string;
  /** The match threshold applied (a distance in the index's units), when the run is calibrated or one was given. */
  threshold?: number;
  /** Where `threshold` came from: `request` (`--threshold`), `thresholds.json optimal` or `thresholds.json <target>`. */
  thresholdSource?: string;
  /** The distance `threshold` is measured in. */
  distance?: string;
  results: MatchedHit[];
}

/** Marks each hit with `match` (distance within the threshold) and records the threshold on the result. */
export function applyThreshold(result: QueryResult, picked: PickedThreshold | null): QueryResult {
  if (!picked) return result;
  return {
    query: result.query,
    threshold: picked.threshold,
    thresholdSource: picked.source,
    distance: picked.distance,
    results: result.results.map((h) => ({ ...h, match: h.distance <= picked.threshold })),
  };
}

/**
 * Fixed-width text of search results: rank, id, score (and distance, match with a threshold), metadata
 * (label/class); a hit whose metadata has a `text` (text runs) shows it quoted on the next line.
 */
export function formatResults(results: QueryResult[]): string {
  const lines: string[] = [];
  const first = results[0];
  if (first?.threshold !== undefined) {
    lines.push(`threshold ${first.threshold} (${first.thresholdSource}; ${first.distance} distance, a match when distance <= threshold)`);
  }
  for (const r of results) {
    const withMatch = r.threshold !== undefined;
    lines.push(`query ${r.query}`);
    lines.push(`  ${'rank'.padEnd(6)}${'id'.padEnd(10)}${'score'.padEnd(10)}${withMatch ? `${'distance'.padEnd(10)}${'match'.padEnd(7)}` : ''}metadata`);
    r.results.forEach((h, i) => {
      const m = withMatch ? `${h.distance.toFixed(4).padEnd(10)}${(h.match ? 'yes' : 'no').padEnd(7)}` : '';
      const { text, ...rest } = h.metadata ?? {};
      const meta = typeof text === 'string' ? rest : h.metadata;
      lines.push(`  ${String(i + 1).padEnd(6)}${String(h.id).padEnd(10)}${h.score.toFixed(4).padEnd(10)}${m}${meta ? JSON.stringify(meta) : ''}`);
      // A text item's text (index metadata of text runs) on a line of its own, under the hit.
      if (typeof text === 'string') lines.push(`${' '.repeat(8)}${JSON.stringify(text)}`);
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
    .option('--query <file>', "inputs to search for in the run's input kind, the files akin embed reads (images: .npy, IDX or .jsonl; text: .txt lines, .jsonl or .csv; tabular: .csv; audio: a .wav, a folder or a list of paths; vectors: .npy or .jsonl), one query per row")
    .option('--id <id>', "an indexed item's id (its own entry is left out of the results)")
    .option('--k <n>', 'neighbours per query', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--k must be an integer >= 1');
      return n;
    }, 10)
    .option('--filter <json>', 'metadata filter, e.g. \'{"label": 5}\'')
    .option('--threshold <distance>', "mark hits within this distance as matches (in the index's distance units), instead of the run's thresholds.json", (v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('--threshold must be a finite number (a distance)');
      return n;
    })
    .option('--target <name>', "use this calibrated threshold of thresholds.json (e.g. precision@0.9) instead of the F1-optimal one")
    .option('--json', 'print JSON')
    .action(async (opts: { run: string; query?: string; id?: string; k: number; filter?: string; threshold?: number; target?: string; json?: boolean }) => {
      if ((opts.query === undefined) === (opts.id === undefined)) throw new ConfigError('search: give exactly one of --query FILE or --id N');
      let filter: SearchFilter | undefined;
      if (opts.filter !== undefined) {
        try {
          filter = JSON.parse(opts.filter) as SearchFilter;
        } catch (e) {
          throw new ConfigError(`search: --filter is not valid JSON (${(e as Error).message})`);
        }
      }
      if (opts.threshold !== undefined && opts.target !== undefined) throw new ConfigError('search: give at most one of --threshold X or --target NAME');
      await startBackend(program.opts());
      const ctx = await openRunContext(resolve(opts.run), { loadItems: false });
      const picked = searchThreshold(ctx.thresholds, { threshold: opts.threshold, target: opts.target }, ctx.index.metric);
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
      const marked = out.map((r) => applyThreshold(r, picked));
      process.stdout.write(opts.json ? `${JSON.stringify(marked, null, 2)}\n` : `${formatResults(marked)}\n`);
      await ctx.index.close?.();
    });
}

/**
 * The threshold `akin search` applies, chosen as the server's POST /match does ({@link pickThreshold}):
 * `--threshold`, else `--target`, else the saved optimal one; null when the run is not calibrated and
 * neither option was given. A saved threshold in another distance than the index's is reported and
 * left out unless asked for by `--target`.
 */
function searchThreshold(saved: Parameters<typeof pickThreshold>[0], request: { threshold?: number; target?: string }, metric: string): PickedThreshold | null {
  const asked = request.threshold !== undefined || request.target !== undefined;
  if (!asked && !saved) return null;
  try {
    return pickThreshold(saved, request, metric, { threshold: '--threshold', target: '--target' });
  } catch (e) {
    if (asked || !(e instanceof ThresholdError) || e.code !== 'E_METRIC_MISMATCH') throw e;
    process.stderr.write(`warning: ${e.message}; hits are not marked as matches\n`);
    return null;
  }
}
