export * from './errors.js';
export * from './options.js';
export * from './registry.js';
export * from './random.js';
export * from './tensor.js';
export * from './indices.js';
export * from './fs.js';
export * from './version.js';
