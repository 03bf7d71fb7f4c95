/** Rejected rows by reason: a part's, or a run's. */
export class RejectTally {
  private readonly byReason = new Map<string, number>();
  total = 0;

  add(counts: Partial<Record<string, number>>): void {
    for (const [reason, n] of Object.entries(counts)) {
      if (!n) continue;
      this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + n);
      this.total += n;
    }
  }

  counts(): Record<string, number> {
    return Object.fromEntries([...this.byReason].sort(([a], [b]) => a.localeCompare(b)));
  }

  clear(): void {
    this.byReason.clear();
    this.total = 0;
  }
}
