// Bare start: a Node process that loads DuckDB, opens a database, runs one query and exits:
// the start-up every tool built on these engines pays before its first row (bench floors).
// Usage: node bareStart.mjs -> {"rows": 0} (its figures are the whole process's: wall, CPU, RSS)
import { DuckDBInstance } from '@duckdb/node-api';

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run('SELECT 1');
console.log(JSON.stringify({ rows: 0 }));
