/** batchinfer's own version, read once from its package.json (no engine is loaded for it). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function batchinferVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
