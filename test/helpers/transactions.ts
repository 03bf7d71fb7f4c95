/** The schema of fixtures/data/transactions.parquet, as DuckDB describes it. */
export const TRANSACTION_COLUMNS = [
  { name: 'txn_id', type: 'VARCHAR' },
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'merchant_category', type: 'VARCHAR' },
  { name: 'amount', type: 'DOUBLE' },
  { name: 'f0', type: 'DOUBLE' },
  { name: 'f1', type: 'DOUBLE' },
  { name: 'f2', type: 'DOUBLE' },
  { name: 'risk score', type: 'DOUBLE' },
  { name: 'n_items', type: 'INTEGER' },
];
