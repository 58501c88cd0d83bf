// Pool-wide concurrency limits (`concurrency_limits = LICENSE:2`), as HTCondor's negotiator enforces them:
// each job consumes the named amounts (1 when unsaid); LICENSE_LIMIT (any case) caps the pool's total, and
// CONCURRENCY_LIMIT_DEFAULT caps a name with no limit of its own. Usage comes from the claimed slots' ads.

/** `a, b:2, c.sub` → { a: 1, b: 2, 'c.sub': 1 } (names case-insensitive). */
export function parseLimits(text: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (typeof text !== 'string') return out;
  for (const part of text.split(',')) {
    const t = part.trim();
    if (!t) continue;
    const [name, amount] = t.split(':');
    const n = amount === undefined ? 1 : Number(amount);
    out.set(
      name!.trim().toLowerCase(),
      (out.get(name!.trim().toLowerCase()) ?? 0) + (Number.isFinite(n) && n > 0 ? n : 1),
    );
  }
  return out;
}

export class ConcurrencyLimits {
  private used = new Map<string, number>();
  /** Matches handed out lately: the slots they claim may not be in the collector yet, so they count too. */
  private recent: Array<{ wants: Map<string, number>; jobs: number; at: number }> = [];
  constructor(
    private limitOf: (name: string) => number,
    private recentMs = 5000,
  ) {}

  /** Start a cycle from what the claimed slots are running (plus recent matches: never over the limit). */
  reset(claimedLimits: unknown[]): void {
    this.used.clear();
    for (const l of claimedLimits) for (const [n, a] of parseLimits(l)) this.used.set(n, (this.used.get(n) ?? 0) + a);
    const now = performance.now();
    this.recent = this.recent.filter((r) => now - r.at < this.recentMs);
    for (const r of this.recent) for (const [n, a] of r.wants) this.used.set(n, (this.used.get(n) ?? 0) + a * r.jobs);
  }

  /** How many more jobs needing `wants` fit under every limit. */
  room(wants: Map<string, number>): number {
    let room = Infinity;
    for (const [n, a] of wants) room = Math.min(room, Math.floor((this.limitOf(n) - (this.used.get(n) ?? 0)) / a));
    return Math.max(0, room);
  }

  take(wants: Map<string, number>, jobs: number): void {
    for (const [n, a] of wants) this.used.set(n, (this.used.get(n) ?? 0) + a * jobs);
    this.recent.push({ wants, jobs, at: performance.now() });
  }
}
