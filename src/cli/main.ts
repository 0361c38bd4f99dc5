#!/usr/bin/env node
/** Entry point of the `portcullis` binary; see program.ts. */
import { main } from './program.js';

process.exitCode = await main(process.argv);
