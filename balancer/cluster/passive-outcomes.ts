/**
 * Passive health across the fleet (PROCESSES > 1): a serving process tells the primary of each failed
 * exchange with a worker, and of the first success after failures (so the primary's count of
 * consecutive failures restarts), never of the other successes. The primary's outlier detector
 * decides, and its ejection reaches every serving process through the feed.
 *
 * Called by the proxy's recordExchange, so once per exchange: a success from a worker with no
 * failure on record costs one size check of an empty Set.
 */
export class OutcomeReporter {
  /** Workers with a failure told and no success since. */
  private readonly failing = new Set<string>();

  constructor(private readonly tell: (url: string, failed: boolean) => void) {}

  note(url: string, failed: boolean): void {
    if (failed) {
      this.failing.add(url);
      this.tell(url, true);
    } else if (this.failing.size !== 0 && this.failing.delete(url)) this.tell(url, false);
  }
}
