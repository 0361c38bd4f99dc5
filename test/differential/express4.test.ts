// Differential suite (run.ts): portcullis in front of Express 4 in its default settings.
import t from 'tap';
import { runDifferential } from './run.js';

await runDifferential(t, 'express4');
