/** docs/configuration.md names every key of the schema, and no key the schema lacks. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ConfigSchema } from '../../../src/config/schema.js';

interface Node {
  type?: unknown;
  properties?: Record<string, Node>;
  items?: Node;
}

function leaves(node: Node, prefix: string): string[] {
  if (node.properties) {
    return Object.entries(node.properties).flatMap(([key, child]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      const inner = leaves(child, path);
      return inner.length > 0 ? inner : [path];
    });
  }
  if (node.type === 'array' && node.items?.properties) return leaves(node.items, `${prefix}[]`);
  return [];
}

const reference = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
const documented = new Set([...reference.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));
const schemaKeys = leaves(ConfigSchema as unknown as Node, '');

t.ok(schemaKeys.length > 40, 'the schema walk finds the keys');
for (const key of schemaKeys) t.ok(documented.has(key), `docs/configuration.md documents ${key}`);
for (const key of documented) t.ok(schemaKeys.includes(key), `documented ${key} exists in the schema`);
