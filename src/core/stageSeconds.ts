/** The seconds a run spent in each stage of the data flow, as its summary reports them. */
export interface StageSeconds {
  /** Copying CSV inputs (and inputs filtered to a window) to a staged Parquet file, once. */
  stage: number;
  /** Waiting on DuckDB for feature chunks. */
  read: number;
  /** Copying feature vectors into batch tensors. */
  preprocess: number;
  /** Sum of `session.run` time over all workers (can exceed wall with several workers). */
  infer: number;
  /** Scores to prediction columns. */
  postprocess: number;
  /** Appending predictions, writing part files, committing. */
  write: number;
  wall: number;
}
