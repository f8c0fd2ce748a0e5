// samplers: public exports
export * from './m-per-class.js';
export * from './hierarchical.js';
export * from './fixed-set-of-triplets.js';
export * from './tuples-to-weights.js';
export * from './prefetch.js';
