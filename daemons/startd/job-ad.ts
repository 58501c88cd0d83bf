// A running job's ad as the startd keeps it. Parsed, a job ad of 50 attributes took 8.5 KB of the startd's
// heap (an entry, an expression and often a BigInt per attribute, and an index of its names); most of a long
// job's life nothing reads it whole: the default machine policy is constant, and the monitor only sets its
// usage attributes. So the monitor packs the ad of a job it has measured before (lib/packed-attrs.ts: its
// texts in one string, about 1.5 KB) while the policy is constant, and whatever needs it whole (a policy
// expression with TARGET, chirp, the output transfer at its end) parses it again and keeps it so until the
// next measurement.
import { ClassAd, parseExpr, unparse, type Expr } from '../../grammar/classad/index.js';
import { PackedAttrs } from '../../lib/packed-attrs.js';

export class JobAd {
  private parsed: ClassAd | undefined;
  private packed: PackedAttrs | undefined;

  constructor(ad: ClassAd) {
    this.parsed = ad;
  }

  /** The ad as a ClassAd: parsed again if it was packed, and kept so until packed again. */
  whole(): ClassAd {
    if (!this.parsed) {
      this.parsed = ClassAd.fromRecord(this.packed!.toRecord());
      this.packed = undefined;
    }
    return this.parsed;
  }

  get isPacked(): boolean {
    return !this.parsed;
  }

  /** Keep the ad as its texts only. */
  pack(): void {
    if (!this.parsed) return;
    this.packed = PackedAttrs.pack(this.parsed.toRecord());
    this.parsed = undefined;
  }

  /** Set an attribute. */
  set(name: string, e: Expr): void {
    if (this.parsed) this.parsed.set(name, e);
    else this.setTexts({ [name]: unparse(e) });
  }

  /** Set attributes given as ClassAd texts; packed, the ad stays packed (one new string with them). */
  setTexts(attrs: Record<string, string>): void {
    if (this.parsed) {
      for (const name of Object.keys(attrs)) this.parsed.set(name, parseExpr(attrs[name]!));
      return;
    }
    const texts = this.packed!.toRecord();
    // names are case-insensitive: an attribute keeps the spelling it has, as ClassAd.set keeps it
    const spelled = new Map(Object.keys(texts).map((n) => [n.toLowerCase(), n]));
    for (const name of Object.keys(attrs)) texts[spelled.get(name.toLowerCase()) ?? name] = attrs[name]!;
    this.packed = PackedAttrs.pack(texts);
  }
}
