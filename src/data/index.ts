// data: public exports
export * from './dataset.js';
