// Differential suite (run.ts): portcullis in front of Koa 3 with @koa/router in its default settings.
import t from 'tap';
import { runDifferential } from './run.js';

await runDifferential(t, 'koa');
