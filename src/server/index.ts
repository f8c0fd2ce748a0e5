export { createApp, HttpError } from './app.js';
export type { AppOptions } from './app.js';
export { startServer } from './serve.js';
export type { ServeOptions, RunningServer } from './serve.js';
export { openRunContext, pickSplit, RUN_INDEX_DIR, RUN_INDEX_SOURCE } from './context.js';
export type { ServeContext, IndexSource, IndexSplit } from './context.js';
export { checkExposure, isLoopback, tokenMatcher } from './auth.js';
