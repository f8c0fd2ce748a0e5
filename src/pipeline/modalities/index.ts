/**
 * The built-in input kinds. Each module registers itself with `registerModality`; a new kind is one
 * more module imported here (see `../modality.ts` for the interface).
 */
import './images.js';
import './vectors.js';
import './tabular.js';
import './text.js';
import './audio.js';
