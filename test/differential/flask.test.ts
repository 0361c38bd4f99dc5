// Differential suite (run.ts): portcullis in front of Flask 3 (werkzeug dev server) in its default settings.
import t from 'tap';
import { runDifferential } from './run.js';

await runDifferential(t, 'flask');
