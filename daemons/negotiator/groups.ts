// Accounting groups with hierarchical quotas, as HTCondor's negotiator has them: GROUP_NAMES lists the
// groups ("group_physics", "group_physics.hep"), GROUP_QUOTA_<g> gives a static quota in cpus and
// GROUP_QUOTA_DYNAMIC_<g> a fraction of the parent's quota; children whose quotas add up to more than their
// parent's are scaled down (unless NEGOTIATOR_ALLOW_QUOTA_OVERSUBSCRIPTION). A group that does not accept
// surplus (GROUP_ACCEPT_SURPLUS, GROUP_ACCEPT_SURPLUS_<g>) is a hard cap on the usage of its whole subtree.
// The invented root group "<none>" holds the submitters of no configured group; its quota is the pool's
// cpus and it always accepts surplus.

export const ROOT_GROUP = '<none>';

export interface GroupSettings {
  names: string[];
  /** GROUP_QUOTA_<g> (cpus) or undefined */
  staticQuota(group: string): number | undefined;
  /** GROUP_QUOTA_DYNAMIC_<g> (fraction of the parent's quota) or undefined */
  dynamicQuota(group: string): number | undefined;
  acceptSurplus(group: string): boolean;
  allowOversubscription: boolean;
}

export interface GroupNode {
  name: string;
  parent?: GroupNode;
  children: GroupNode[];
  /** configured quota (static, or dynamic × parent), before scaling */
  configQuota: number;
  /** quota in effect (cpus) for the whole subtree */
  quota: number;
  dynamic: boolean;
  acceptSurplus: boolean;
  /** cpus in use by the group's own submitters */
  usage: number;
  /** cpus in use in the subtree (own + children's) */
  subtreeUsage: number;
  /** cpus the group's own submitters asked for (idle jobs), for display */
  requested: number;
}

/** The configured groups; the accounting name of a submitter decides which one it negotiates in. */
export class AccountingGroups {
  private byLower = new Map<string, string>();
  constructor(readonly settings: GroupSettings) {
    for (const n of settings.names) if (n && n !== ROOT_GROUP) this.byLower.set(n.toLowerCase(), n);
  }

  get enabled(): boolean {
    return this.byLower.size > 0;
  }

  /**
   * The group an accounting name ("group_physics.hep.higgs") belongs to: its group part (before the last
   * dot), or the longest configured group that contains it; the root group when none is configured.
   */
  groupOf(acct: string): string {
    const dot = acct.lastIndexOf('.');
    if (dot <= 0 || !this.byLower.size) return ROOT_GROUP;
    let g = acct.slice(0, dot).toLowerCase();
    for (;;) {
      const name = this.byLower.get(g);
      if (name) return name;
      const d = g.lastIndexOf('.');
      if (d <= 0) return ROOT_GROUP;
      g = g.slice(0, d);
    }
  }

  /**
   * The group tree with quotas for a pool of `poolCpus` cpus, and each group's usage (cpus, from its
   * submitters). Parents are found by name: "a.b" is a child of "a" when "a" is configured, else of the root.
   */
  tree(
    poolCpus: number,
    usageByGroup: ReadonlyMap<string, number> = new Map(),
    requestedByGroup: ReadonlyMap<string, number> = new Map(),
  ): Map<string, GroupNode> {
    const s = this.settings;
    const root: GroupNode = {
      name: ROOT_GROUP,
      children: [],
      configQuota: poolCpus,
      quota: poolCpus,
      dynamic: false,
      acceptSurplus: true,
      usage: 0,
      subtreeUsage: 0,
      requested: 0,
    };
    const nodes = new Map<string, GroupNode>([[ROOT_GROUP, root]]);
    // parents before children: sort by name (a parent's name is a prefix of its children's)
    for (const name of [...this.byLower.values()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) {
      let parent = root;
      for (let p = name.lastIndexOf('.'); p > 0; p = name.lastIndexOf('.', p - 1)) {
        const pn = this.byLower.get(name.slice(0, p).toLowerCase());
        if (pn && nodes.has(pn)) {
          parent = nodes.get(pn)!;
          break;
        }
      }
      const node: GroupNode = {
        name,
        parent,
        children: [],
        configQuota: 0,
        quota: 0,
        dynamic: false,
        acceptSurplus: s.acceptSurplus(name),
        usage: 0,
        subtreeUsage: 0,
        requested: 0,
      };
      parent.children.push(node);
      nodes.set(name, node);
    }
    // quotas top-down: static in cpus, dynamic as a fraction of the parent's quota; scale down oversubscription
    const assign = (parent: GroupNode) => {
      let sum = 0;
      for (const c of parent.children) {
        const st = s.staticQuota(c.name);
        const dy = s.dynamicQuota(c.name);
        if (st !== undefined) c.configQuota = Math.max(0, st);
        else if (dy !== undefined) {
          c.configQuota = Math.max(0, Math.min(1, dy)) * parent.quota;
          c.dynamic = true;
        } else c.configQuota = 0;
        sum += c.configQuota;
      }
      const scale = !s.allowOversubscription && sum > parent.quota && sum > 0 ? parent.quota / sum : 1;
      for (const c of parent.children) {
        c.quota = c.configQuota * scale;
        assign(c);
      }
    };
    assign(root);
    for (const [g, u] of usageByGroup) {
      const n = nodes.get(g);
      if (n) n.usage += u;
    }
    for (const [g, r] of requestedByGroup) {
      const n = nodes.get(g);
      if (n) n.requested += r;
    }
    const total = (n: GroupNode): number => (n.subtreeUsage = n.usage + n.children.reduce((a, c) => a + total(c), 0));
    total(root);
    return nodes;
  }
}

/** The quota a group's own submitters have: its quota less what its children's quotas take. */
export function ownQuota(n: GroupNode): number {
  return Math.max(0, n.quota - n.children.reduce((a, c) => a + c.quota, 0));
}

/** Record `cpus` more in use by group `n` (and its ancestors' subtrees). */
export function chargeGroup(n: GroupNode, cpus: number): void {
  n.usage += cpus;
  for (let x: GroupNode | undefined = n; x; x = x.parent) x.subtreeUsage += cpus;
}

/**
 * How many more cpus group `n` may get. In the quota phase every group stays within its own quota and every
 * ancestor's; in the surplus phase (groups that accept surplus) only ancestors that refuse surplus cap it.
 */
export function allowance(n: GroupNode, phase: 'quota' | 'surplus'): number {
  let room = Infinity;
  if (phase === 'quota') {
    // the root's own share is what the configured groups leave; beyond that it takes surplus
    room = ownQuota(n) - n.usage;
    for (let a = n.parent; a && a.name !== ROOT_GROUP; a = a.parent) room = Math.min(room, a.quota - a.subtreeUsage);
    if (n.name !== ROOT_GROUP) room = Math.min(room, n.quota - n.subtreeUsage);
  } else {
    if (!n.acceptSurplus) return 0;
    for (let a = n.parent; a && a.name !== ROOT_GROUP; a = a.parent)
      if (!a.acceptSurplus) room = Math.min(room, a.quota - a.subtreeUsage);
  }
  return Math.max(0, room);
}

/** Starvation order (least usage for its quota first), the root group last, as HTCondor negotiates groups. */
export function starvationOrder(nodes: Map<string, GroupNode>): GroupNode[] {
  const list = [...nodes.values()].filter((n) => n.name !== ROOT_GROUP);
  const ratio = (n: GroupNode) => (n.quota > 0 ? n.usage / n.quota : n.usage > 0 ? Infinity : Number.MAX_VALUE);
  list.sort((a, b) => ratio(a) - ratio(b) || a.name.localeCompare(b.name));
  list.push(nodes.get(ROOT_GROUP)!);
  return list;
}
