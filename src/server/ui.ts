import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sampleSize } from '../data/dataset.js';
import { imagePng } from '../report/png.js';
import type { ServeContext } from './context.js';
import { computeLayout, LAYOUT_MAX_POINTS, readRunLayout, runLayoutKey, writeRunLayout, type Layout } from './layout.js';
import { errorReply } from './schemas.js';

/** Where the UI's static files are: `src/web/` of the package (kept out of the TypeScript build). */
export const WEB_DIR = fileURLToPath(new URL('../../src/web/', import.meta.url));

const ASSETS: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};

/** Options of {@link registerUi}. */
export interface UiOptions {
  /** Items shown by the projector at most. Default 1000. */
  maxPoints?: number;
  /**
   * The run folder: the layout is read from its `layout.json` when that was made for the current
   * index (by `akin index build` or an earlier request), else computed once and written there.
   */
  runDir?: string;
}

/**
 * Registers the browser projector: the static page (`/`, `/app.js`, `/app.css`), `GET /api/points`
 * (a seeded UMAP layout of up to `maxPoints` indexed items, cached in the run folder) and
 * `GET /api/thumb/:id` (an item's image as PNG). Needs the context's `items` (raw inputs); without
 * them the API routes answer 404.
 */
export function registerUi(app: FastifyInstance, ctx: ServeContext, { maxPoints = LAYOUT_MAX_POINTS, runDir }: UiOptions = {}): void {
  for (const [url, [file, type]] of Object.entries(ASSETS)) {
    const path = `${WEB_DIR}${file}`;
    const body = existsSync(path) ? readFileSync(path) : null;
    app.get(url, async (_req, reply) => {
      if (!body) return reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: `the UI file ${file} is not installed` } });
      return reply.type(type).header('cache-control', 'no-cache').send(body);
    });
  }

  const items = ctx.items;
  let layout: Promise<Layout> | null = null;
  const loadLayout = async (): Promise<Layout> => {
    const cached = runDir ? readRunLayout(runDir, maxPoints) : null;
    if (cached) return cached;
    const key = runDir ? runLayoutKey(runDir, maxPoints) : null;
    const fresh = await computeLayout(ctx.model, items!, maxPoints);
    if (runDir && key) {
      try {
        writeRunLayout(runDir, fresh, key);
      } catch (e) {
        app.log.warn(`could not cache the projector layout in ${runDir}: ${(e as Error).message}`);
      }
    }
    return fresh;
  };

  const noItems = { error: { code: 'E_NO_ITEMS', message: "the server has no raw items for this index: build it with 'akin index build' from the run's data" } };

  app.get('/api/points', {
    schema: {
      response: {
        200: {
          type: 'object',
          properties: {
            points: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, x: { type: 'number' }, y: { type: 'number' }, label: { type: 'integer' } } } },
            classNames: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
            thumbnails: { type: 'boolean' },
          },
        },
        '4xx': errorReply,
      },
    },
  }, async (_req, reply) => {
    if (!items) return reply.status(404).send(noItems);
    layout ??= loadLayout();
    try {
      return await layout;
    } catch (e) {
      layout = null;
      throw e;
    }
  });

  app.get<{ Params: { id: string } }>('/api/thumb/:id', {
    schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,9}$' } }, required: ['id'] }, response: { '4xx': errorReply } },
  }, async (req, reply) => {
    if (!items) return reply.status(404).send(noItems);
    const id = Number(req.params.id);
    if (id >= items.count) return reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: `params.id ${id} is not an item (there are ${items.count})` } });
    const size = sampleSize(items);
    const png = imagePng(items.features.subarray(id * size, (id + 1) * size), items.shape);
    if (!png) return reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: 'the items are not images' } });
    return reply.type('image/png').header('cache-control', 'max-age=3600').send(png);
  });
}
