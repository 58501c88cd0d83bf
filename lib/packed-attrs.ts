// An ad's attributes (name → ClassAd text) kept in one string, for a daemon that holds many ads it rarely
// reads whole: the negotiator's copy of the collector's. As an object of 85 attributes a slot's ad took 6.4 KB
// of heap (a dictionary, and a string of its own for each text); packed, 1.9 KB: the texts joined in one
// string, and the names kept once for every ad with the same ones (a startd's slots). A new version of an ad
// that differs from the one held in a few texts (a renewal that moved its load averages, LastHeardFrom and
// MyCurrentTime: every slot at every update on a loaded host) keeps the held string and only those texts
// (PackedAttrs.packOver): 264 bytes a version instead of 1361 (bench/ad-versions.ts), each held in the old
// generation until a full collection.
const SEP = '\0';

/** The attribute names of ads that have the same ones, in order, with each one's place. */
interface Shape {
  names: string[];
  at: Map<string, number>;
  /** by lower-case name, for the lookups that ignore case as ClassAds do */
  atLower: Map<string, number>;
}

/**
 * Shapes by their names, each followed by the separator (JSON when a name holds it: no such key is JSON);
 * dropped whole past a bound (ads keep theirs).
 */
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 1000;

function shapeOf(key: string, names: string[]): Shape {
  let s = shapes.get(key);
  if (!s) {
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    const at = new Map<string, number>();
    const atLower = new Map<string, number>();
    names.forEach((n, i) => {
      at.set(n, i);
      if (!atLower.has(n.toLowerCase())) atLower.set(n.toLowerCase(), i);
    });
    shapes.set(key, (s = { names, at, atLower }));
  }
  return s;
}

/** The shape of the last ad packed: a startd's slot ads come one after another with the same names. */
let lastShape: Shape | undefined;

/** How many times the separator is in `s`. */
function seps(s: string): number {
  let n = 0;
  for (let i = s.indexOf(SEP); i >= 0; i = s.indexOf(SEP, i + 1)) n++;
  return n;
}

function sameNames(s: Shape | undefined, names: string[]): s is Shape {
  if (s?.names.length !== names.length) return false;
  for (let i = 0; i < names.length; i++) if (s.names[i] !== names[i]) return false;
  return true;
}

/**
 * At most this many texts of a version (and a quarter of them) differ from the held one for packOver to keep
 * the held string.
 */
const MAX_CHANGED = 12;

export class PackedAttrs {
  private constructor(
    private shape: Shape,
    /** each text followed by NUL, or the texts as an array when one holds a NUL itself */
    private texts: string | string[],
    /** texts that replace some of `texts`: place, text, place, text, … */
    private changed?: Array<number | string>,
  ) {}

  /**
   * `attrs` packed, sharing the string of `held` (an earlier version of the same ad) when they have the same
   * names and differ from its texts in a few only; else packed anew.
   */
  static packOver(attrs: Record<string, string>, held: PackedAttrs | undefined): PackedAttrs {
    const base = held?.texts;
    if (typeof base !== 'string') return PackedAttrs.pack(attrs);
    const names = Object.keys(attrs);
    if (!sameNames(held!.shape, names)) return PackedAttrs.pack(attrs);
    const changed: Array<number | string> = [];
    const most = 2 * Math.min(MAX_CHANGED, names.length >> 2);
    let start = 0;
    for (let i = 0; i < names.length; i++) {
      const end = base.indexOf(SEP, start);
      const text = attrs[names[i]!]!;
      if (text.length !== end - start || !base.startsWith(text, start)) {
        if (changed.length >= most || text.includes(SEP)) return PackedAttrs.pack(attrs);
        changed.push(i, text);
      }
      start = end + 1;
    }
    return new PackedAttrs(held!.shape, base, changed.length ? changed : undefined);
  }

  /**
   * `held` with `texts` set over it (a renewal's few texts): sharing its string when it has each of those
   * names, spelled so, and keeps its texts in one string; else packed anew.
   */
  static setOver(held: PackedAttrs, texts: Record<string, string>): PackedAttrs {
    const changed = [...(held.changed ?? [])];
    for (const k in texts) {
      const i = held.shape.at.get(k);
      const text = texts[k]!;
      if (i === undefined || typeof held.texts !== 'string' || text.includes(SEP))
        return PackedAttrs.pack({ ...held.toRecord(), ...texts });
      // places and texts alternate, and a text is never a number: this finds a place
      const j = changed.indexOf(i);
      if (j >= 0) changed[j + 1] = text;
      else changed.push(i, text);
    }
    return new PackedAttrs(held.shape, held.texts, changed.length ? changed : undefined);
  }

  static pack(attrs: Record<string, string>): PackedAttrs {
    const names = Object.keys(attrs);
    let texts = '';
    for (const k of names) texts += attrs[k]! + SEP;
    if (!sameNames(lastShape, names)) {
      const key = names.join(SEP) + SEP;
      lastShape = shapeOf(key.split(SEP).length === names.length + 1 ? key : JSON.stringify(names), names);
    }
    // counting the separators also makes the string flat (as built, it held every piece)
    return new PackedAttrs(lastShape, seps(texts) === names.length ? texts : names.map((k) => attrs[k]!));
  }

  /** The text of an attribute under exactly this name. */
  get(name: string): string | undefined {
    const i = this.shape.at.get(name);
    return i === undefined ? undefined : this.textAt(i);
  }

  /** The text of an attribute, its name in any case (as ClassAds look names up). */
  getIgnoreCase(name: string): string | undefined {
    const i = this.shape.at.get(name) ?? this.shape.atLower.get(name.toLowerCase());
    return i === undefined ? undefined : this.textAt(i);
  }

  get size(): number {
    return this.shape.names.length;
  }

  names(): readonly string[] {
    return this.shape.names;
  }

  toRecord(): Record<string, string> {
    const texts = typeof this.texts === 'string' ? this.texts.split(SEP) : [...this.texts];
    const changed = this.changed ?? [];
    for (let j = 0; j < changed.length; j += 2) texts[changed[j] as number] = changed[j + 1] as string;
    // own properties whatever the names (`__proto__` too)
    return Object.fromEntries(this.shape.names.map((n, i) => [n, texts[i]!]));
  }

  private textAt(i: number): string {
    const changed = this.changed;
    if (changed) for (let j = 0; j < changed.length; j += 2) if (changed[j] === i) return changed[j + 1] as string;
    if (typeof this.texts !== 'string') return this.texts[i]!;
    let start = 0;
    for (let k = 0; k < i; k++) start = this.texts.indexOf(SEP, start) + 1;
    return this.texts.slice(start, this.texts.indexOf(SEP, start));
  }
}
