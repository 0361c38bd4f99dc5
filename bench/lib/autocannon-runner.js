/**
 * The autocannon fallback of bench/lib/load.js as its own process (so it can be pinned like
 * wrk): argv[2] is `{ url, seconds, connections, headers, tokenFile?, offset }`; prints the same
 * summary as `parseWrk` as one JSON line.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const spec = JSON.parse(process.argv[2] ?? '{}');
const tokens = spec.tokenFile ? readFileSync(spec.tokenFile, 'utf8').split('\n').filter((l) => l !== '') : [];
let i = (spec.offset ?? 0) % Math.max(1, tokens.length);
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  headers: spec.headers,
  requests: [
    {
      setupRequest: (req) => {
        if (tokens.length === 0) return req;
        const token = tokens[i];
        i = (i + 1) % tokens.length;
        return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    socketErrors: result.errors + result.timeouts,
  })}\n`,
);
