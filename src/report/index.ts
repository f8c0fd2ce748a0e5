export { buildRunReport, writeRunReport, readEpochLog } from './html.js';
export type { RunReportInput } from './html.js';
export { project2d } from './projection.js';
export type { ProjectionOptions } from './projection.js';
export { encodePng, imageDataUri, imagePng } from './png.js';
export { lineChart, scatterPlot, labelColor, PALETTE } from './svg.js';
export type { Series } from './svg.js';
