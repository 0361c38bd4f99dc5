/**
 * Worker thread for bench/lib/tokens.js: RS256-signs a batch of JWS signing inputs with the
 * PKCS#8 private key it is given and posts the compact tokens back (signing is the slow part of
 * building 10,000 tokens, so it is spread over every core before any measurement starts).
 */
import { createPrivateKey, sign } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const key = createPrivateKey(workerData.pem);
const tokens = workerData.inputs.map((input) => `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`);
parentPort?.postMessage(tokens);
