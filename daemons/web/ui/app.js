// The dsched dashboard: plain ES modules, no framework, no CDN. Every value from the pool is put into the page
// as text (textContent / attributes), never as HTML. The token, when pasted, lives in sessionStorage and goes
// only into the Authorization header of requests to this origin.
const $main = () => document.getElementById('main');
const STATE = { 1: 'idle', 2: 'running', 3: 'removed', 4: 'completed', 5: 'held', 6: 'running', 7: 'suspended' };

function h(tag, attrs = {}, ...kids) {
  const ns = ['svg', 'g', 'rect', 'line', 'path', 'polyline', 'text', 'title'].includes(tag)
    ? 'http://www.w3.org/2000/svg'
    : null;
  const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat())
    if (kid !== undefined && kid !== null && kid !== false)
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}

const token = () => sessionStorage.getItem('dsched-token') || '';
let me = { user: null, admin: false, anonymousReads: true };

async function api(path, opts = {}) {
  const headers = { ...(opts.body ? { 'Content-Type': 'application/json' } : {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const r = await fetch(`/v1${path}`, { ...opts, headers });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${r.status}`);
  return body;
}

function toast(text, ok = false) {
  const t = h('div', { class: ok ? 'ok' : '' }, text);
  document.getElementById('toast').append(t);
  setTimeout(() => t.remove(), 6000);
}

const stateBadge = (s) => h('span', { class: `state s-${s}` }, s);
const fmtTime = (t) => (t ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) : '');
const jobId = (ad) => `${ad.ClusterId}.${ad.ProcId}`;

function table(cols, rows, caption) {
  return h(
    'table',
    {},
    caption ? h('caption', { class: 'muted' }, caption) : null,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        cols.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : '' }, c.title)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          cols.map((c) => h('td', { class: c.num ? 'num' : '' }, c.cell(r))),
        ),
      ),
    ),
  );
}

function bar(parts) {
  const total = parts.reduce((a, p) => a + p.n, 0) || 1;
  return h(
    'div',
    { class: 'bar', role: 'img', 'aria-label': parts.map((p) => `${p.n} ${p.cls}`).join(', ') },
    parts
      .filter((p) => p.n > 0)
      .map((p) => h('span', { class: `b-${p.cls}`, style: { width: `${(100 * p.n) / total}%` } })),
  );
}

// ---------------------------------------------------------------- pages

async function overview(main) {
  const pool = await api('/pool');
  main.append(h('h1', {}, 'Pool overview'));
  main.append(
    h('h2', {}, 'Slots by state'),
    h(
      'div',
      { class: 'cards', id: 'slot-cards' },
      Object.entries(pool.slots).map(([k, n]) =>
        h('div', { class: 'card' }, h('b', {}, n), k === 'total' ? 'Total' : k),
      ),
    ),
  );
  main.append(
    h('h2', {}, 'Jobs'),
    h(
      'div',
      { class: 'cards' },
      ['total', 'idle', 'running', 'held', 'suspended'].map((k) =>
        h('div', { class: 'card' }, h('b', {}, pool.jobs[k]), k),
      ),
    ),
  );
  main.append(h('h2', {}, 'Utilisation (busy / total cpus, the last hour)'), utilisationChart(pool.utilisation));
  main.append(h('h2', {}, 'Submitters'));
  let subs = { submitters: pool.submitters };
  try {
    subs = await api('/submitters');
  } catch (e) {
    toast(e.message);
  }
  main.append(
    table(
      [
        { title: 'Submitter', cell: (s) => s.name },
        { title: 'Idle', num: true, cell: (s) => s.idle },
        { title: 'Running', num: true, cell: (s) => s.running },
        { title: 'Held', num: true, cell: (s) => s.held },
        { title: 'Effective priority', num: true, cell: (s) => (s.effectivePriority ?? '').toString() },
        { title: 'Factor', num: true, cell: (s) => (s.priorityFactor ?? '').toString() },
        { title: 'In use', num: true, cell: (s) => (s.resourcesInUse ?? '').toString() },
      ],
      subs.submitters,
    ),
  );
}

function utilisationChart(samples) {
  const W = 600,
    H = 120;
  if (!samples.length) return h('p', { class: 'muted' }, 'No samples yet (one every 10 s).');
  const t0 = samples[0][0],
    t1 = Math.max(samples.at(-1)[0], t0 + 1);
  const max = Math.max(1, ...samples.map((s) => s[2]));
  const pts = (i) => samples.map((s) => `${((s[0] - t0) / (t1 - t0)) * W},${H - (s[i] / max) * H}`).join(' ');
  const last = samples.at(-1);
  return h(
    'svg',
    {
      width: W,
      height: H + 4,
      viewBox: `0 -2 ${W} ${H + 4}`,
      role: 'img',
      'aria-label': `utilisation now ${last[1]} of ${last[2]} cpus`,
    },
    h('polyline', { points: pts(2), fill: 'none', stroke: '#afb8c1', 'stroke-width': 2 }),
    h('polyline', { points: pts(1), fill: 'none', stroke: '#1a7f37', 'stroke-width': 2 }),
  );
}

function selection() {
  return [...document.querySelectorAll('input[data-job]:checked')].map((i) => i.dataset.job);
}

function actionBar(getIds, after) {
  const reason = h('input', { id: 'act-reason', placeholder: 'reason', 'aria-label': 'reason' });
  const act = async (action) => {
    const ids = getIds();
    if (!ids.length) return toast('select jobs first');
    try {
      const r = await api('/jobs/actions', {
        method: 'POST',
        body: JSON.stringify({ action, ids, reason: reason.value || undefined }),
      });
      const bad = r.results.filter((x) => !x.ok);
      if (bad.length) toast(bad.map((b) => `${b.id}: ${b.code ? `${b.code}: ` : ''}${b.error}`).join('; '));
      else toast(`${action}: ${r.results.length} job(s)`, true);
      after?.();
    } catch (e) {
      toast(e.message);
    }
  };
  const signedIn = !!token();
  return h(
    'div',
    { class: 'row-actions' },
    h('button', { id: 'act-hold', disabled: !signedIn, onclick: () => act('hold') }, 'Hold'),
    h('button', { id: 'act-release', disabled: !signedIn, onclick: () => act('release') }, 'Release'),
    h('button', { id: 'act-remove', disabled: !signedIn, onclick: () => act('remove') }, 'Remove'),
    reason,
    signedIn ? null : h('span', { class: 'muted' }, 'sign in to act on your jobs'),
  );
}

async function queue(main, params) {
  const owner = params.get('owner') || '';
  const state = params.get('state') || '';
  const constraint = params.get('constraint') || '';
  const view = params.get('view') || (constraint ? 'jobs' : 'batches');
  main.append(h('h1', {}, 'Queue'));
  const f = {
    owner: h('input', { name: 'owner', value: owner, size: 10 }),
    state: h(
      'select',
      { name: 'state' },
      ['', 'idle', 'running', 'held', 'completed', 'removed', 'suspended'].map((s) =>
        h('option', { value: s, selected: s === state }, s || 'any'),
      ),
    ),
    constraint: h('input', { name: 'constraint', value: constraint, size: 40, placeholder: 'e.g. RequestCpus > 1' }),
    view: h(
      'select',
      { name: 'view' },
      [
        ['batches', 'batches (dq)'],
        ['jobs', 'jobs (dq -nobatch)'],
      ].map(([v, t]) => h('option', { value: v, selected: v === view }, t)),
    ),
  };
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        const p = new URLSearchParams();
        for (const [k, el] of Object.entries(f)) if (el.value) p.set(k, el.value);
        location.hash = `#/queue?${p}`;
      },
    },
    h('label', {}, 'Owner', f.owner),
    h('label', {}, 'State', f.state),
    h('label', {}, 'Constraint', f.constraint),
    h('label', {}, 'View', f.view),
    h('button', { type: 'submit' }, 'Filter'),
  );
  main.append(form);
  if (view === 'batches') {
    const offset = Number(params.get('offset') || 0);
    const q = new URLSearchParams({ offset, limit: 100 });
    if (owner) q.set('owner', owner);
    if (state) q.set('state', state);
    const r = await api(`/batches?${q}`);
    main.append(
      h(
        'p',
        { class: 'muted', id: 'totals' },
        `Total for all users: ${r.counts.total} jobs; ${r.counts.completed} completed, ${r.counts.removed} removed, ${r.counts.idle} idle, ${r.counts.running} running, ${r.counts.held} held, ${r.counts.suspended} suspended`,
      ),
    );
    main.append(
      table(
        [
          { title: 'Owner', cell: (b) => b.owner },
          {
            title: 'Batch name',
            cell: (b) =>
              b.clusters.length === 1 && b.name.startsWith('DAG')
                ? h('a', { href: `#/dag/${b.name.slice(5)}` }, b.name)
                : b.clusters.length === 1
                  ? h(
                      'a',
                      { href: `#/queue?view=jobs&constraint=${encodeURIComponent(`ClusterId == ${b.clusters[0]}`)}` },
                      b.name,
                    )
                  : b.name,
          },
          { title: 'Submitted', cell: (b) => fmtTime(b.submitted) },
          { title: 'Done', num: true, cell: (b) => b.done || '_' },
          { title: 'Run', num: true, cell: (b) => b.running || '_' },
          { title: 'Idle', num: true, cell: (b) => b.idle || '_' },
          { title: 'Hold', num: true, cell: (b) => b.held || '_' },
          { title: 'Total', num: true, cell: (b) => b.total },
          {
            title: 'Progress',
            cell: (b) =>
              bar([
                { n: b.done, cls: 'done' },
                { n: b.running, cls: 'running' },
                { n: b.idle, cls: 'idle' },
                { n: b.held, cls: 'held' },
              ]),
          },
          {
            title: 'Job ids',
            cell: (b) => (b.clusters.length > 3 ? `${b.clusters[0]} … ${b.clusters.at(-1)}` : b.clusters.join(' ')),
          },
        ],
        r.batches,
        `${r.total} batch(es)`,
      ),
    );
    main.append(
      pager(
        offset > 0 ? offset - 100 : null,
        offset + 100 < r.total ? offset + 100 : null,
        (o) => {
          const p = new URLSearchParams(params);
          p.set('offset', o);
          location.hash = `#/queue?${p}`;
        },
        `batches ${r.total ? offset + 1 : 0}–${Math.min(offset + 100, r.total)} of ${r.total}`,
      ),
    );
    return;
  }
  const q = new URLSearchParams({
    limit: 100,
    projection: 'Owner,JobStatus,QDate,Cmd,Args,Arguments,HoldReason,Progress,JobBatchName',
  });
  if (owner) q.set('owner', owner);
  if (state) q.set('state', state);
  if (constraint) q.set('constraint', constraint);
  if (params.get('after')) q.set('after', params.get('after'));
  const r = await api(`/jobs?${q}`);
  main.append(actionBar(selection, () => route()));
  const note = unreadableNote(r.unreadable, 'the jobs are listed without them');
  if (note) main.append(note);
  main.append(
    table(
      [
        {
          title: h('span', { class: 'muted' }, '✓'),
          cell: (j) => h('input', { type: 'checkbox', 'data-job': jobId(j), 'aria-label': `select ${jobId(j)}` }),
        },
        { title: 'ID', cell: (j) => h('a', { href: `#/job/${jobId(j)}` }, jobId(j)) },
        { title: 'Owner', cell: (j) => j.Owner },
        { title: 'Submitted', cell: (j) => fmtTime(j.QDate) },
        { title: 'State', cell: (j) => stateBadge(STATE[j.JobStatus] ?? 'unknown') },
        {
          title: 'Progress',
          cell: (j) =>
            typeof j.Progress === 'number'
              ? bar([
                  { n: j.Progress, cls: 'progress' },
                  { n: Math.max(0, 1 - j.Progress), cls: 'none' },
                ])
              : '',
        },
        { title: 'Command', cell: (j) => `${j.Cmd ?? ''} ${j.Args ?? j.Arguments ?? ''}`.trim() },
        { title: 'Hold reason', cell: (j) => j.HoldReason ?? '' },
      ],
      r.jobs,
      r.next && r.jobs.length < 100
        ? `${r.jobs.length} job(s) found up to job ${r.next}; Next searches on`
        : `${r.jobs.length} job(s) on this page`,
    ),
  );
  main.append(
    pager(
      null,
      r.next,
      (after) => {
        const p = new URLSearchParams(params);
        p.set('view', 'jobs');
        p.set('after', after);
        location.hash = `#/queue?${p}`;
      },
      params.get('after') ? `after ${params.get('after')}` : 'first page',
    ),
  );
}

/**
 * The attributes an answer left out of its jobs (stored texts that are no ClassAd expression), or nothing;
 * `shown` says what the page shows without them.
 */
function unreadableNote(list, shown) {
  if (!list?.length) return null;
  return h(
    'div',
    { class: 'unreadable', role: 'alert' },
    h('p', {}, `${list.length} attribute(s) could not be read; ${shown}:`),
    h('ul', {}, ...list.map((u) => h('li', {}, `job ${u.job}: attribute ${u.attribute} cannot be read: ${u.error}`))),
  );
}

function pager(prev, next, go, text) {
  return h(
    'div',
    { class: 'pager' },
    h('button', { class: 'secondary', disabled: prev === null, onclick: () => go(prev) }, '← Previous'),
    h('span', { class: 'muted' }, text),
    h(
      'button',
      { class: 'secondary', id: 'next-page', disabled: next === null || next === undefined, onclick: () => go(next) },
      'Next →',
    ),
  );
}

let tailTimer;
async function job(main, id) {
  const ad = await api(`/jobs/${id}`);
  const state = STATE[ad.JobStatus] ?? 'unknown';
  main.append(h('h1', {}, `Job ${jobId(ad)} `, stateBadge(state)));
  // the analysis weighs the same ad, so this note stands for it too
  const note = unreadableNote(ad.$unreadable, 'the job is shown and analysed without them');
  if (note) main.append(note);
  if (typeof ad.Progress === 'number')
    main.append(
      h(
        'p',
        {},
        `Progress ${(ad.Progress * 100).toFixed(0)}%`,
        bar([
          { n: ad.Progress, cls: 'progress' },
          { n: Math.max(0, 1 - ad.Progress), cls: 'none' },
        ]),
      ),
    );
  main.append(
    actionBar(
      () => [jobId(ad)],
      () => route(),
    ),
  );
  if (ad.HoldReason) main.append(h('h2', {}, 'Hold reason'), h('p', { id: 'hold-reason' }, ad.HoldReason));
  if (state === 'idle' || state === 'held') {
    main.append(h('h2', {}, 'Analysis'));
    const pre = h('pre', { id: 'analysis' }, 'analysing…');
    main.append(pre);
    api(`/jobs/${id}/analyze`).then(
      (r) => (pre.textContent = r.text),
      (e) => (pre.textContent = e.message),
    );
  }
  if (token()) {
    main.append(h('h2', {}, 'Output'));
    const which = h(
      'select',
      { 'aria-label': 'stream' },
      h('option', { value: 'stdout' }, 'stdout'),
      h('option', { value: 'stderr' }, 'stderr'),
    );
    const note = h('p', { class: 'muted' });
    const out = h('pre', { id: 'output', tabindex: 0 }, '');
    let from;
    const poll = async () => {
      try {
        const r = await api(`/jobs/${id}/output?stream=${which.value}${from !== undefined ? `&from=${from}` : ''}`);
        if (from === undefined || r.offset < from) out.textContent = '';
        out.textContent += r.text;
        from = r.size;
        note.textContent = r.note ?? r.path;
      } catch (e) {
        note.textContent = e.message;
      }
    };
    which.addEventListener('change', () => {
      from = undefined;
      poll();
    });
    main.append(h('label', {}, 'Stream', which), note, out);
    await poll();
    if (state === 'running' || state === 'idle') tailTimer = setInterval(poll, 2000);
    main.append(h('h2', {}, 'Event log'));
    const ev = h('pre', { id: 'events' }, '');
    main.append(ev);
    api(`/jobs/${id}/events`).then(
      (r) =>
        (ev.textContent =
          r.events
            .map(
              (e) =>
                `${fmtTime(e.time)}  ${e.type}${e.reason ? `: ${e.reason}` : ''}${e.returnValue !== undefined ? ` (exit ${e.returnValue})` : ''}`,
            )
            .join('\n') || '(no events, or no log = file)'),
      (e) => (ev.textContent = e.message),
    );
  } else
    main.append(
      h('p', { class: 'muted' }, "Sign in to see the job's output and event log (they are read with your rights)."),
    );
  main.append(
    h('h2', {}, 'Job ad'),
    h(
      'dl',
      { class: 'ad' },
      Object.entries(ad)
        .filter(([k]) => !k.startsWith('$'))
        .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))]),
    ),
  );
}

async function dags(main) {
  const r = await api('/dags');
  main.append(h('h1', {}, 'DAGs'));
  const note = unreadableNote(r.unreadable, 'the DAGs are listed without them');
  if (note) main.append(note);
  main.append(
    table(
      [
        { title: 'DAG', cell: (d) => h('a', { href: `#/dag/${jobId(d)}` }, jobId(d)) },
        { title: 'Owner', cell: (d) => d.Owner },
        { title: 'File', cell: (d) => d.DAGManDagFile },
        { title: 'Done', num: true, cell: (d) => d.DAG_NodesDone ?? 0 },
        { title: 'Total', num: true, cell: (d) => d.DAG_NodesTotal ?? '' },
        { title: 'State', cell: (d) => stateBadge(STATE[d.JobStatus] ?? 'unknown') },
      ],
      r.dags,
      `${r.dags.length} DAG(s) in the queue`,
    ),
  );
}

const NODE_COLOURS = {
  done: '#57606a',
  running: '#1a7f37',
  idle: '#d89b00',
  held: '#cf222e',
  failed: '#a40e26',
  waiting: '#afb8c1',
  removed: '#8250df',
  unknown: '#afb8c1',
};
async function dag(main, id) {
  const r = await api(`/dags/${id}`);
  main.append(h('h1', {}, `DAG ${id} `, h('span', { class: 'muted' }, r.file)));
  main.append(
    h(
      'div',
      { class: 'cards', id: 'dag-counts' },
      Object.entries(r.counts).map(([k, n]) => h('div', { class: 'card' }, h('b', {}, n), k)),
    ),
  );
  if (r.error) main.append(h('p', { class: 'muted' }, r.error));
  const note = unreadableNote(r.unreadable, 'the DAG and its nodes are shown without them');
  if (note) main.append(note);
  // layers by longest path from a root; nodes laid out left to right in each layer
  const depth = new Map();
  const byName = new Map(r.nodes.map((n) => [n.name, n]));
  const d = (n, seen = 0) => {
    if (depth.has(n.name)) return depth.get(n.name);
    if (seen > r.nodes.length) return 0;
    const v = n.parents.length
      ? 1 + Math.max(...n.parents.map((p) => (byName.has(p) ? d(byName.get(p), seen + 1) : 0)))
      : 0;
    depth.set(n.name, v);
    return v;
  };
  r.nodes.forEach((n) => d(n));
  const layers = [];
  for (const n of r.nodes) (layers[depth.get(n.name)] ??= []).push(n);
  const BW = 110,
    BH = 28,
    GX = 20,
    GY = 40;
  const width = Math.max(...layers.map((l) => l.length)) * (BW + GX) + GX;
  const pos = new Map();
  layers.forEach((l, y) => l.forEach((n, x) => pos.set(n.name, [GX + x * (BW + GX), GY / 2 + y * (BH + GY)])));
  const svg = h(
    'svg',
    {
      id: 'dag-graph',
      width,
      height: layers.length * (BH + GY) + GY / 2,
      role: 'group',
      'aria-label': `graph of ${r.nodes.length} nodes`,
    },
    r.nodes.flatMap((n) =>
      n.parents
        .filter((p) => pos.has(p))
        .map((p) => {
          const [x1, y1] = pos.get(p),
            [x2, y2] = pos.get(n.name);
          return h('line', { x1: x1 + BW / 2, y1: y1 + BH, x2: x2 + BW / 2, y2, stroke: '#8c959f' });
        }),
    ),
    r.nodes.map((n) => {
      const [x, y] = pos.get(n.name);
      const g = h(
        'g',
        {
          class: 'dag-node',
          tabindex: 0,
          role: 'link',
          'aria-label': `${n.name}: ${n.state}`,
          'data-state': n.state,
          onclick: () => n.job && (location.hash = `#/job/${n.job}`),
          onkeydown: (e) => e.key === 'Enter' && n.job && (location.hash = `#/job/${n.job}`),
        },
        h('title', {}, `${n.name}: ${n.state}${n.job ? ` (job ${n.job})` : ''}`),
        h('rect', { x, y, width: BW, height: BH, rx: 4, fill: NODE_COLOURS[n.state] ?? '#afb8c1' }),
        h('text', { x: x + 6, y: y + 18, fill: '#fff' }, n.name.length > 16 ? `${n.name.slice(0, 15)}…` : n.name),
      );
      return g;
    }),
  );
  main.append(h('h2', {}, 'Nodes'), h('div', { class: 'graph' }, svg));
  main.append(
    h('h2', {}, 'Rescue files'),
    r.rescue.length
      ? r.rescue.map((f) => [h('h3', {}, f.file), h('pre', {}, f.text)])
      : h('p', { class: 'muted' }, 'none'),
  );
}

async function history(main, params) {
  const owner = params.get('owner') || '';
  const constraint = params.get('constraint') || '';
  main.append(h('h1', {}, 'History'));
  const fo = h('input', { name: 'owner', value: owner, size: 10 });
  const fc = h('input', { name: 'constraint', value: constraint, size: 40 });
  main.append(
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        onsubmit: (e) => {
          e.preventDefault();
          const p = new URLSearchParams();
          if (fo.value) p.set('owner', fo.value);
          if (fc.value) p.set('constraint', fc.value);
          location.hash = `#/history?${p}`;
        },
      },
      h('label', {}, 'Owner', fo),
      h('label', {}, 'Constraint', fc),
      h('button', { type: 'submit' }, 'Filter'),
    ),
  );
  const q = new URLSearchParams({ limit: 200 });
  if (owner) q.set('owner', owner);
  if (constraint) q.set('constraint', constraint);
  const r = await api(`/history?${q}`);
  const note = unreadableNote(r.unreadable, 'the jobs are listed without them');
  if (note) main.append(note);
  main.append(
    table(
      [
        { title: 'ID', cell: (j) => h('a', { href: `#/job/${jobId(j)}` }, jobId(j)) },
        { title: 'Owner', cell: (j) => j.Owner },
        { title: 'Submitted', cell: (j) => fmtTime(j.QDate) },
        { title: 'Completed', cell: (j) => fmtTime(j.CompletionDate) },
        { title: 'State', cell: (j) => stateBadge(STATE[j.JobStatus] ?? 'unknown') },
        { title: 'Exit', num: true, cell: (j) => (j.ExitBySignal ? `signal ${j.ExitSignal}` : (j.ExitCode ?? '')) },
        { title: 'Command', cell: (j) => j.Cmd ?? '' },
      ],
      r.jobs,
      `${r.jobs.length} finished job(s), newest first`,
    ),
  );
}

async function signin(main) {
  main.append(h('h1', {}, 'Sign in'));
  main.append(
    h(
      'p',
      {},
      'Paste your pool token (make one with ',
      h('code', {}, 'dsched token create'),
      '). It is kept in this tab only (sessionStorage) and sent only to this daemon.',
    ),
  );
  const t = h('textarea', { id: 'token', rows: 3, cols: 80, 'aria-label': 'token' });
  main.append(
    h(
      'form',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          sessionStorage.setItem('dsched-token', t.value.trim());
          try {
            await whoami();
            toast(`signed in as ${me.user}`, true);
            location.hash = '#/queue';
          } catch (err) {
            sessionStorage.removeItem('dsched-token');
            toast(err.message);
          }
        },
      },
      t,
      h(
        'div',
        { class: 'row-actions' },
        h('button', { type: 'submit', id: 'signin' }, 'Sign in'),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              sessionStorage.removeItem('dsched-token');
              whoami();
              toast('signed out', true);
            },
          },
          'Sign out',
        ),
      ),
    ),
  );
  main.append(
    h('p', { class: 'muted' }, me.user ? `Signed in as ${me.user}${me.admin ? ' (admin)' : ''}.` : 'Not signed in.'),
  );
}

async function whoami() {
  me = await api('/whoami');
  document.getElementById('who').textContent = me.user ? `${me.user}${me.admin ? ' (admin)' : ''}` : 'Sign in';
}

// ---------------------------------------------------------------- routing and live updates

const PAGES = { overview, queue, dags, history, signin };
let rendering = false;
async function route() {
  clearInterval(tailTimer);
  // what this drawing reads from the API shows every change announced until now; a change announced while
  // it draws marks the page stale again and is drawn after it
  clearTimeout(refreshTimer);
  refreshTimer = undefined;
  stale = false;
  lastDraw = Date.now();
  const [path, qs] = (location.hash.slice(1) || '/overview').split('?');
  const params = new URLSearchParams(qs ?? '');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('nav a'))
    a.setAttribute('aria-current', a.getAttribute('href') === `#/${parts[0]}` ? 'page' : 'false');
  const main = h('main', { id: 'main', tabindex: -1, 'data-page': parts[0] ?? 'overview' });
  rendering = true;
  try {
    if (parts[0] === 'job' && parts[1]) await job(main, parts[1]);
    else if (parts[0] === 'dag' && parts[1]) await dag(main, parts[1]);
    else await (PAGES[parts[0]] ?? overview)(main, params);
  } catch (e) {
    main.append(h('p', { role: 'alert' }, e.message));
  } finally {
    rendering = false;
  }
  main.setAttribute('data-route', location.hash || '#/overview');
  main.setAttribute('data-ready', 'true');
  $main().replaceWith(main);
}

let refreshTimer;
/** A change was announced that the page on screen may not show yet. */
let stale = false;
let lastDraw = 0;
const livePage = () =>
  ['overview', 'queue', 'job', 'dag', 'dags'].includes((location.hash.split('/')[1] || 'overview').split('?')[0]);
const typing = () => document.activeElement && ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement.tagName);
/**
 * Live pages redraw at most once a second after a change is announced. The change is kept, not dropped,
 * while the page is drawing or the user is typing (the redraw waits for them), and a steady stream of
 * announcements cannot put the redraw off for ever (a throttle, not a debounce).
 */
function refreshSoon() {
  stale = true;
  if (refreshTimer === undefined) refreshTimer = setTimeout(redrawIfStale, Math.max(0, lastDraw + 1000 - Date.now()));
}
function redrawIfStale() {
  refreshTimer = undefined;
  if (!stale || !livePage()) return;
  if (rendering || typing()) refreshTimer = setTimeout(redrawIfStale, 500);
  else route();
}

async function events() {
  const live = document.getElementById('live');
  for (;;) {
    try {
      const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
      const r = await fetch('/v1/events', { headers });
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      live.textContent = 'live';
      live.classList.add('on');
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (\w+)/m.exec(block)?.[1];
          if (ev === 'jobs' || ev === 'pool') refreshSoon();
        }
      }
    } catch {
      /* reconnect below */
    }
    live.textContent = 'offline';
    live.classList.remove('on');
    await new Promise((r) => setTimeout(r, 3000));
  }
}

document.addEventListener('keydown', (e) => {
  if (
    e.target instanceof HTMLInputElement ||
    e.target instanceof HTMLTextAreaElement ||
    e.target instanceof HTMLSelectElement
  )
    return;
  const keys = { o: '#/overview', q: '#/queue', d: '#/dags', h: '#/history', s: '#/signin' };
  if (!e.ctrlKey && !e.metaKey && !e.altKey && keys[e.key]) location.hash = keys[e.key];
});
window.addEventListener('hashchange', route);
whoami()
  .catch(() => {})
  .finally(() => {
    route();
    events();
  });
