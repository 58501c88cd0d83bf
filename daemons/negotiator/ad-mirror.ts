// The negotiator's copy of the pool: the collector's Machine, Submitter and Scheduler ads, kept current by
// its Watch stream (every ad at the start, then each change). A cycle reads them here instead of asking the
// collector: no round trips on the submit-to-start path, and no pool-sized reply per cycle on a large pool.
// Each ad is parsed once per version, when a cycle first needs it, and from then on kept only parsed: its
// attributes' texts beside the ClassAd were more than a third of what a slot's ad held. Most ads are never
// parsed: a cycle reads the few attributes it needs of every slot (State, Name, ConcurrencyLimits) from their
// texts, and parses only the slots it matches (unclaimed ones, and the claimed ones preemption considers).
// The claimed dynamic slots of running jobs, most of a busy pool, stay as the collector sent them, packed; a
// version that differs in a few texts (load averages moved) shares the string of the one before. A renewal
// comes as its few texts alone (kind "renewed"), set over a copy of the version held.
import { ClassAd, isPlainLiteral, unparse } from '../../grammar/classad/index.js';
import { PackedAttrs } from '../../lib/packed-attrs.js';

export interface AdChangeMessage {
  type: string;
  name: string;
  kind: string;
  ad?: { attrs: Record<string, string> } | null;
}

/** One attribute's text in an ad of the copy. */
export interface MirroredAttrs {
  text(name: string): string | undefined;
}

/** What a cycle reads of an ad it may not match: an attribute's value (as ClassAd.lookupJS gives it). */
export type AdView = Pick<ClassAd, 'lookupJS'>;

export class MirroredAd implements MirroredAttrs, AdView {
  private parsed: ClassAd | undefined;
  private attrs: PackedAttrs | undefined;
  /** `before`: the version held until now, whose string this one shares if they differ in a few texts only */
  constructor(attrs: Record<string, string> | PackedAttrs | ClassAd, before?: MirroredAd) {
    if (attrs instanceof ClassAd) this.parsed = attrs;
    else this.attrs = attrs instanceof PackedAttrs ? attrs : PackedAttrs.packOver(attrs, before?.attrs);
  }
  /** A new version: this one with `texts` set over it (a renewal's). */
  renewed(texts: Record<string, string>): MirroredAd {
    if (this.attrs) return new MirroredAd(PackedAttrs.setOver(this.attrs, texts));
    // kept parsed, as a cycle would parse it again (the copy shares the trees, which are immutable)
    const ad = this.parsed!.clone();
    for (const k in texts) ad.setExprText(k, texts[k]!, { file: `<attribute ${k}>`, line: 1, column: 1 });
    return new MirroredAd(ad);
  }
  get ad(): ClassAd {
    if (!this.parsed) {
      this.parsed = ClassAd.fromRecord(this.attrs!.toRecord());
      this.attrs = undefined;
    }
    return this.parsed;
  }
  text(name: string): string | undefined {
    if (this.attrs) return this.attrs.getIgnoreCase(name);
    const e = this.parsed!.get(name);
    return e && unparse(e);
  }
  /**
   * The value of an attribute whose text is a plain literal (as startds write State, Name, JobId), without
   * parsing the ad; any other is evaluated in the parsed ad, as it refers to other attributes.
   */
  lookupJS(name: string): unknown {
    if (!this.parsed) {
      const text = this.text(name);
      if (text === undefined) return null; // lookupJS's undefined
      if (isPlainLiteral(text))
        return text.startsWith('"') ? text.slice(1, -1) : ClassAd.fromRecord({ [name]: text }).lookupJS(name);
    }
    return this.ad.lookupJS(name);
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

  /** Apply a change; returns the ad as it was before (undefined: it is new). */
  apply(ch: AdChangeMessage): MirroredAttrs | undefined {
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
    const before = t.get(name);
    if (ch.kind === 'removed') t.delete(name);
    else if (ch.kind === 'renewed') {
      // of an ad held (the stream sends the ad whole first)
      if (before) t.set(name, before.renewed(ch.ad?.attrs ?? {}));
    } else t.set(name, new MirroredAd(ch.ad?.attrs ?? {}, before));
    return before;
  }

  /** The ad of that type and name held now. */
  get(type: string, name: string): MirroredAd | undefined {
    return this.byType.get(type.toLowerCase())?.get(name.toLowerCase());
  }

  /** The ads of a type, each parsed only when its `ad` is read. */
  views(type: string): MirroredAd[] {
    const t = this.byType.get(type.toLowerCase());
    return t ? [...t.values()] : [];
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
