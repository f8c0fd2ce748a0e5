import type { FastifyInstance } from 'fastify';
import type { ServeContext } from './context.js';

/** Registers the browser UI (projector) routes. */
export function registerUi(app: FastifyInstance, ctx: ServeContext): void {
  void app;
  void ctx;
}
