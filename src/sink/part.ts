/** A finished part file of a run, its quarantine file when rows were rejected, and its profile file when the run keeps one. */
export interface Part {
  path: string;
  rows: number;
  rejects?: string;
  profile?: string;
}
