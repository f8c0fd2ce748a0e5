// samplers: public exports
export * from './m-per-class.js';
