import { describe, expect, it } from 'vitest';
import { formatBytes, parseMemorySize } from '../../src/util/memorySize.js';

describe('parseMemorySize', () => {
  it.each([
    ['512MB', 512e6],
    ['4GiB', 4 * 2 ** 30],
    ['2.5GB', 2.5e9],
    [' 64 mib ', 64 * 2 ** 20],
    ['1000000b', 1e6],
    ['50%', 8 * 2 ** 30],
    ['100%', 16 * 2 ** 30],
  ])('%s is %d bytes (of a 16 GiB machine)', (text, bytes) => {
    expect(parseMemorySize(text, 16 * 2 ** 30)).toBe(bytes);
  });

  it.each(['', '12', 'GB', '-1GB', '1XB', '0%', '101%', '1e9B', '4 GB extra'])('refuses %j', (text) => {
    expect(parseMemorySize(text, 16 * 2 ** 30)).toBeNull();
  });
});

describe('formatBytes', () => {
  it('uses binary units with one decimal', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1e9)).toBe('953.7 MiB');
    expect(formatBytes(3 * 2 ** 30)).toBe('3.0 GiB');
  });
});
