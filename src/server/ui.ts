import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { embed } from '../models/embed.js';
import { sampleSize } from '../data/dataset.js';
import { imagePng } from '../report/png.js';
import { project2d } from '../report/projection.js';
import type { ServeContext } from './context.js';
import { errorReply } from './schemas.js';

/** Where the UI's static files are: `src/web/` of the package (kept out of the TypeScript build). */
export const WEB_DIR = fileURLToPath(new URL('../../src/web/', import.meta.url));

const ASSETS: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};

/** The projector's layout: evenly spaced items, their 2-D UMAP coordinates and labels. */
interface Layout {
  points: { id: number; x: number; y: number; label: number }[];
  classNames: string[] | null;
  thumbnails: boolean;
}

/**
 * Registers the browser projector: the static page (`/`, `/app.js`, `/app.css`), `GET /api/points`
 * (a seeded UMAP layout of up to `maxPoints` indexed items) and `GET /api/thumb/:id` (an item's image
 * as PNG). Needs the context's `items` (raw inputs); without them the API routes answer 404.
 */
export function registerUi(app: FastifyInstance, ctx: ServeContext, { maxPoints = 1000 }: { maxPoints?: number } = {}): void {
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
  const computeLayout = async (): Promise<Layout> => {
    const ds = items!;
    const m = Math.min(ds.count, maxPoints);
    const rows = Array.from({ length: m }, (_, i) => Math.floor((i * ds.count) / m));
    const size = sampleSize(ds);
    const feats = new Float32Array(m * size);
    rows.forEach((r, i) => feats.set(ds.features.subarray(r * size, (r + 1) * size), i * size));
    const { embeddings, dim } = await embed(ctx.model, feats, m, ds.shape);
    const xy = project2d(embeddings, dim, { seed: 0 });
    return {
      points: rows.map((r, i) => ({ id: r, x: xy[2 * i], y: xy[2 * i + 1], label: ds.labels[r] })),
      classNames: ds.classNames ?? null,
      thumbnails: ds.shape.length >= 2,
    };
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
    layout ??= computeLayout();
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
