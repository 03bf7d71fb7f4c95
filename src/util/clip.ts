/**
 * Data values in messages are quoted short: a bad value may be a secret (an access key in a
 * free-text column) or a megabyte long, and messages go to logs, stderr and JSON reports.
 * At most `MAX_VALUE_CHARS` characters of a value are shown, with its length.
 */
export const MAX_VALUE_CHARS = 60;

/** `text` itself when short, else its first characters and its length: `abc... (1000004 characters)`. */
export function clipValue(text: string): string {
  if (text.length <= MAX_VALUE_CHARS) return text;
  return `${text.slice(0, MAX_VALUE_CHARS)}... (${text.length} characters)`;
}

/**
 * A message from a library (DuckDB) with every quoted value clipped: `'...'` and `"..."` runs
 * longer than `MAX_VALUE_CHARS` keep their first characters and say how long they were.
 */
export function clipQuoted(message: string): string {
  return message.replace(/'([^']{61,})'|"([^"]{61,})"/g, (_m, single: string | undefined, double: string | undefined) => {
    const value = single ?? double ?? '';
    const q = single !== undefined ? "'" : '"';
    return `${q}${value.slice(0, MAX_VALUE_CHARS)}...${q} (${value.length} characters)`;
  });
}

/** The SQL expression of `clipValue` over the VARCHAR expression `text`, quoted in '' when `quoted`. */
export function clipValueSql(text: string, quoted: boolean): string {
  const q = quoted ? `'''' || ` : '';
  const end = quoted ? ` || ''''` : '';
  return `CASE WHEN length(${text}) > ${MAX_VALUE_CHARS} THEN ${q}left(${text}, ${MAX_VALUE_CHARS}) || '...'${end} || ' (' || length(${text}) || ' characters)' ELSE ${q}${text}${end} END`;
}
