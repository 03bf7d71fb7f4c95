/** A finished part file of a run, and its quarantine file when rows were rejected. */
export interface Part {
  path: string;
  rows: number;
  rejects?: string;
}
