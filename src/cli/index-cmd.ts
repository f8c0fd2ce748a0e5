import { Command, Option } from 'commander';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/fs.js';
import { loadRun } from '../pipeline/run.js';
import { loadRunData } from '../pipeline/data.js';
import type { Preprocessing } from '../pipeline/modality.js';
import { embed } from '../models/embed.js';
import { createIndex } from '../search/factory.js';
import type { PgAnnIndex, PgVectorIndexOptions } from '../search/pgvector.js';
import type { IndexKind, IndexMetric } from '../search/types.js';
import { pickSplit, RUN_INDEX_DIR, RUN_INDEX_SOURCE, type IndexSource, type IndexSplit } from '../server/context.js';
import { layoutOf, layoutRows, runLayoutKey, writeRunLayout } from '../server/layout.js';

type StartBackend = (opts: { backend?: string; threads?: number }) => Promise<void>;

/** Options of {@link buildRunIndex}. */
export interface BuildRunIndexOptions {
  /** Data source instead of the run's config (`auto`, `embedded`, `debian` or a folder). */
  data?: string;
  /** Which split to index. Default `unseen` (the classes never trained on). */
  split?: IndexSplit;
  kind?: IndexKind;
  metric?: IndexMetric;
  /**
   * For `kind: 'pgvector'`: connection, table (default `akin_<run folder name>`) and approximate
   * index. The table is replaced when it exists and akin made it.
   */
  pgvector?: Omit<PgVectorIndexOptions, 'metric' | 'dim'>;
  /** Also compute the browser projector's layout and cache it in the run folder. Default true. */
  layout?: boolean;
  log?: (line: string) => void;
}

/** The default pgvector table of a run folder: `akin_` and its name in lower case, other characters as `_`. */
export function defaultPgTable(runDir: string): string {
  return `akin_${basename(resolve(runDir)).toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 59);
}

/**
 * Embeds a split of a run's data with the run's model and saves an index of it in the run folder
 * (`index/`, with `index-source.json`). Item ids are row numbers; metadata holds `label` and `class`,
 * and for text runs `text`, the item's text (its first {@link TEXT_PREVIEW_CHARS} characters).
 */
export async function buildRunIndex(runDir: string, options: BuildRunIndexOptions = {}): Promise<IndexSource> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const run = await loadRun(runDir);
  const dataSource = options.data ?? run.config.data.source;
  // Text runs keep each item's text (a preview) in its metadata, for search results that can be read.
  const texts = run.config.data.kind === 'text' ? new Map<Float32Array, unknown[]>() : null;
  const preprocessing = texts ? recordingItems(run.preprocessing, texts) : run.preprocessing;
  const data = await loadRunData(run.config, { source: dataSource, preprocessing });
  const split = options.split ?? 'unseen';
  const ds = pickSplit(data, split);
  const items = texts?.get(ds.features);
  const t0 = performance.now();
  const { embeddings, dim } = await embed(run.model, ds.features, ds.count, ds.shape);
  const t1 = performance.now();
  const pgvector = options.kind === 'pgvector' ? { table: defaultPgTable(runDir), ifExists: 'replace' as const, ...options.pgvector } : undefined;
  const index = createIndex(options.kind ?? 'exact', { metric: options.metric ?? 'cosine', warn: (m) => log(`warning: ${m}`), pgvector });
  const ids = Array.from({ length: ds.count }, (_, i) => i);
  const metadata = Array.from(ds.labels, (label, i) => ({
    label,
    class: ds.classNames?.[label] ?? String(label),
    ...(typeof items?.[i] === 'string' ? { text: textPreview(items[i] as string) } : {}),
  }));
  await index.add(embeddings, dim, ids, metadata);
  await index.save(join(runDir, RUN_INDEX_DIR));
  await index.close?.();
  const t2 = performance.now();
  const source: IndexSource = { split, data: dataSource, count: ds.count, kind: index.kind, built: new Date().toISOString() };
  writeJsonAtomic(join(runDir, RUN_INDEX_SOURCE), source);
  run.model.dispose();
  const where = pgvector ? ` in table ${pgvector.table}` : '';
  log(`indexed ${ds.count} '${split}' items (dim ${dim}, ${index.kind}${where}, ${index.metric}): embed ${((t1 - t0) / 1000).toFixed(1)}s, index ${((t2 - t1) / 1000).toFixed(1)}s`);
  if (options.layout !== false) {
    // The projector's layout of these items, so that the first page load of 'akin serve' needs no UMAP.
    const key = runLayoutKey(runDir)!;
    const rows = layoutRows(ds.count);
    const sub = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => sub.set(embeddings.subarray(r * dim, (r + 1) * dim), i * dim));
    writeRunLayout(runDir, layoutOf(sub, dim, rows, ds), key);
    log(`projector layout of ${rows.length} items cached: ${((performance.now() - t2) / 1000).toFixed(1)}s`);
  }
  return source;
}

/** Characters of an item's text kept in its index metadata (text runs). */
export const TEXT_PREVIEW_CHARS = 200;

/** A text's first {@link TEXT_PREVIEW_CHARS} characters (code points), runs of white space as one space, `…` when cut. */
export function textPreview(text: string): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= TEXT_PREVIEW_CHARS ? chars.join('') : `${chars.slice(0, TEXT_PREVIEW_CHARS).join('')}…`;
}

/**
 * The run's preprocessing, also recording the raw items behind each block of features it makes
 * (`seen`, keyed by the features array), so that a split's items can be found from its dataset.
 */
function recordingItems(p: Preprocessing<unknown>, seen: Map<Float32Array, unknown[]>): Preprocessing<unknown> {
  return {
    input: p.input,
    rawName: p.rawName,
    transform(items) {
      const features = p.transform(items);
      seen.set(features, items);
      return features;
    },
    toJSON: () => p.toJSON(),
    ...(p.baseline ? { baseline: (items: unknown[]) => p.baseline!(items) } : {}),
  };
}

/** Registers `akin index build`. */
export function addIndexCommand(program: Command, startBackend: StartBackend): void {
  const index = program.command('index').description('nearest-neighbour indexes of a run');
  index
    .command('build')
    .description("embed a split of the run's data (default: the unseen-class test set) and save an index in the run folder")
    .requiredOption('--run <dir>', 'run folder')
    .option('--data <source>', "data source instead of the run's")
    .addOption(new Option('--split <name>', 'which data to index').choices(['unseen', 'seen', 'train', 'validation']).default('unseen'))
    .addOption(new Option('--kind <kind>', 'index implementation').choices(['exact', 'hnsw', 'lancedb', 'pgvector']).default('exact'))
    .addOption(new Option('--metric <metric>', 'ranking (lancedb: cosine only)').choices(['cosine', 'ip', 'l2']).default('cosine'))
    .option('--pg-url <url>', 'pgvector: postgres://user@host:port/database (default: the PG* environment variables); the password is not saved')
    .option('--table <name>', 'pgvector: table of the items, replaced if akin made it (default: akin_<run folder name>)')
    .addOption(new Option('--pg-index <type>', 'pgvector: approximate index over the vectors (none: exact scans)').choices(['hnsw', 'ivfflat', 'none']).default('hnsw'))
    .option('--no-layout', "skip computing the browser projector's layout now (akin serve then computes it on first use)")
    .action(async (opts: {
      run: string; data?: string; split: IndexSplit; kind: IndexKind; metric: IndexMetric; pgUrl?: string; table?: string; pgIndex: PgAnnIndex; layout: boolean;
    }) => {
      if (opts.kind !== 'pgvector' && (opts.pgUrl !== undefined || opts.table !== undefined)) {
        throw new ConfigError(`index build: --pg-url and --table apply to --kind pgvector, not '${opts.kind}'`);
      }
      await startBackend(program.opts());
      const runDir = resolve(opts.run);
      const s = await buildRunIndex(runDir, {
        data: opts.data, split: opts.split, kind: opts.kind, metric: opts.metric, layout: opts.layout,
        pgvector: { connectionString: opts.pgUrl, annIndex: opts.pgIndex, ...(opts.table === undefined ? {} : { table: opts.table }) },
      });
      process.stdout.write(`index of ${s.count} items saved to ${join(runDir, RUN_INDEX_DIR)}\nnext: npx akin search --run ${runDir} --id 0   |   npx akin serve --run ${runDir}\n`);
    });
}
