/** Reads a Prometheus text exposition into `name{label="v",...}` → value, labels sorted. */
import { http } from './http.js';

export type Samples = Map<string, number>;

export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}="${v}"`)
      .sort()
      .join(',');
    samples.set(labels ? `${m[1]}{${labels}}` : m[1]!, Number(m[3]));
  }
  return samples;
}

export async function scrape(adminUrl: string): Promise<Samples> {
  return parseMetrics((await http(`${adminUrl}/metrics`)).body);
}

/** The value of `name` with exactly these labels (0 when absent). */
export function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const key = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  return samples.get(key ? `${name}{${key}}` : name) ?? 0;
}

/** Series of `name` (any labels). */
export function series(samples: Samples, name: string): string[] {
  return [...samples.keys()].filter((k) => k === name || k.startsWith(`${name}{`));
}
