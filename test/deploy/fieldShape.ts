/**
 * A small structural check for the deployment files a registry of schemas does not cover
 * (AWS Batch and Cloud Batch requests): each object's keys must be fields the API documents,
 * with values of the documented kind. Returns every problem as `path: what`.
 *
 * @example
 *   shapeProblems({ a: 1, b: 'x' }, { a: 'number' }); // ['$.b: not a documented field']
 */

/** A field's kind: a scalar, an object of known fields, a list of one shape, or a test. */
export type Shape = 'string' | 'number' | 'boolean' | 'integer' | 'any' | { [field: string]: Shape } | [Shape] | ((value: unknown) => string | null);

export function shapeProblems(value: unknown, shape: Shape, path = '$'): string[] {
  if (shape === 'any') return [];
  if (typeof shape === 'function') {
    const problem = shape(value);
    return problem ? [`${path}: ${problem}`] : [];
  }
  if (typeof shape === 'string') {
    const ok = shape === 'integer' ? Number.isInteger(value) : typeof value === shape;
    return ok ? [] : [`${path}: expected ${shape}, got ${JSON.stringify(value)}`];
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((v, i) => shapeProblems(v, shape[0], `${path}[${i}]`));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => (k in shape ? shapeProblems(v, shape[k]!, `${path}.${k}`) : [`${path}.${k}: not a documented field`]));
}

/** A string matching `pattern` (and at most `max` characters). */
export function matching(pattern: RegExp, max = Infinity): Shape {
  return (v) => (typeof v === 'string' && pattern.test(v) && v.length <= max ? null : `expected ${pattern}, got ${JSON.stringify(v)}`);
}

export function oneOf(...values: unknown[]): Shape {
  return (v) => (values.includes(v) ? null : `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
}

/** An integer (or, for protobuf's int64 in JSON, its decimal string) from `min` to `max`. */
export function intIn(min: number, max: number, asString = false): Shape {
  return (v) => {
    const n = typeof v === 'string' && asString && /^-?\d+$/.test(v) ? Number(v) : v;
    return Number.isInteger(n) && (n as number) >= min && (n as number) <= max ? null : `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`;
  };
}

/** A list of at most `max` items of `item`. */
export function listOf(item: Shape, max: number): Shape {
  return (v) => {
    if (!Array.isArray(v)) return 'expected a list';
    if (v.length > max) return `at most ${max} items, got ${v.length}`;
    const problems = v.flatMap((x, i) => shapeProblems(x, item, `[${i}]`));
    return problems.length > 0 ? problems.join('; ') : null;
  };
}
