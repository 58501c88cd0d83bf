// The negotiator's copy of the pool: the collector's Machine, Submitter and Scheduler ads, kept current by
// its Watch stream (every ad at the start, then each change). A cycle reads them here instead of asking the
// collector: no round trips on the submit-to-start path, and no pool-sized reply per cycle on a large pool.
// Each ad is parsed once per version, when a cycle first needs it.
import { ClassAd } from '../../grammar/classad/index.js';

export interface AdChangeMessage {
  type: string;
  name: string;
  kind: string;
  ad?: { attrs: Record<string, string> } | null;
}

class MirroredAd {
  private parsed: ClassAd | undefined;
  constructor(readonly attrs: Record<string, string>) {}
  get ad(): ClassAd {
    return (this.parsed ??= ClassAd.fromRecord(this.attrs));
  }
}

export class AdMirror {
  private byType = new Map<string, Map<string, MirroredAd>>();
  private building: Map<string, Map<string, MirroredAd>> | undefined;
  /** True once the stream has sent every current ad; false again when it breaks. */
  ready = false;

  /** The stream (re)opened: the ads that come before its hello replace the whole copy. */
  streamOpened(): void {
    this.building = new Map();
  }

  /** The stream broke: the copy may miss changes from now on. */
  streamLost(): void {
    this.ready = false;
    this.building = undefined;
  }

  /** Apply a change; returns the attributes the ad had before (undefined: it is new). */
  apply(ch: AdChangeMessage): Record<string, string> | undefined {
    if (ch.kind === 'hello') {
      if (this.building) this.byType = this.building;
      this.building = undefined;
      this.ready = true;
      return undefined;
    }
    const target = this.building ?? this.byType;
    const key = ch.type.toLowerCase();
    let t = target.get(key);
    if (!t) target.set(key, (t = new Map()));
    const name = ch.name.toLowerCase();
    const before = t.get(name)?.attrs;
    if (ch.kind === 'removed') t.delete(name);
    else t.set(name, new MirroredAd(ch.ad?.attrs ?? {}));
    return before;
  }

  /** The ads of a type, parsed. */
  ads(type: string): ClassAd[] {
    const t = this.byType.get(type.toLowerCase());
    if (!t) return [];
    const out: ClassAd[] = [];
    for (const m of t.values()) out.push(m.ad);
    return out;
  }
}
