// Differential suite (run.ts): portcullis in front of Fastify 5 in its default settings.
import t from 'tap';
import { runDifferential } from './run.js';

await runDifferential(t, 'fastify');
