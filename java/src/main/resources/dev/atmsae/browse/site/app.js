/*
 * atmsae browse: the pages of a static SAE feature browser. No libraries, no network.
 * Data files are scripts that call window.__atmsae(data): pages opened from file:// cannot fetch() local files in
 * Chromium, but they can load scripts. Loads run one at a time, so each call belongs to the script being loaded.
 */
(function () {
  'use strict';

  // ------------------------------------------------------------------ data loading
  let pending = null;
  window.__atmsae = function (data) {
    if (pending) {
      const resolve = pending;
      pending = null;
      resolve(data);
    }
  };
  let queue = Promise.resolve();
  function load(src) {
    const run = () => new Promise((resolve, reject) => {
      const s = document.createElement('script');
      pending = resolve;
      s.onload = () => {
        s.remove();
        if (pending === resolve) {
          pending = null;
          reject(new Error(src + ' did not deliver data'));
        }
      };
      s.onerror = () => {
        s.remove();
        pending = null;
        reject(new Error('cannot load ' + src));
      };
      s.src = src;
      document.head.appendChild(s);
    });
    const p = queue.then(run, run);
    queue = p.catch(() => undefined);
    return p;
  }

  // ------------------------------------------------------------------ DOM and number helpers
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'style') e.style.cssText = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const svgNs = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...children) {
    const e = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  function num(x, digits) {
    if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
    const d = digits === undefined ? 3 : digits;
    const a = Math.abs(x);
    if (a === 0) return '0';
    if (a >= 1000) return x.toFixed(0);
    if (a < 1e-3) return x.toExponential(1);
    return Number(x.toPrecision(d)).toString();
  }
  function pct(x) {
    return x === null || x === undefined ? 'n/a' : (100 * x).toFixed(x < 0.001 && x > 0 ? 3 : 1) + '%';
  }
  function card(k, v) {
    return h('div', {class: 'card'}, h('div', {class: 'k'}, k), h('div', {class: 'v'}, v));
  }
  function bar(frac, width, color) {
    const w = Math.max(0, Math.min(1, frac || 0)) * (width || 80);
    return h('span', {class: 'bar', style: 'width:' + w.toFixed(1) + 'px' + (color ? ';background:' + color : '')});
  }
  /** WordPiece tokens as text: "##ing" continues the previous token; other tokens follow a space. */
  function tokenText(tok) {
    return tok.startsWith('##') ? tok.slice(2) : tok;
  }
  function spaceBefore(tok, first) {
    return !first && !tok.startsWith('##');
  }
  function latentLink(base, j, text) {
    return h('a', {class: 'lat', href: base + 'latent.html#' + j}, text === undefined ? '#' + j : text);
  }
  function fail(err) {
    const main = document.getElementById('main');
    main.replaceChildren(h('div', {class: 'err'}, 'Could not show this page: ' + err.message));
    console.error(err);
  }

  // ------------------------------------------------------------------ charts (inline SVG)
  /** Bars of counts[i] over [x0 + i·step, x0 + (i+1)·step); xLabel(value) formats the axis ticks. */
  function histogram(counts, x0, step, opts) {
    const W = opts.width || 520, H = opts.height || 170, L = 44, B = 26, T = 20, R = 10;
    const max = Math.max(1, ...counts);
    const svg = s('svg', {width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img'});
    const pw = W - L - R, ph = H - T - B, bw = pw / Math.max(1, counts.length);
    svg.append(s('line', {x1: L, y1: T + ph, x2: L + pw, y2: T + ph, stroke: '#c9ced8'}));
    const yOf = y => T + ph - (opts.log ? (y > 0 ? Math.log1p(y) / Math.log1p(max) : 0) : y / max) * ph;
    const yTicks = opts.log ? [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7].filter(v => v <= max) : [0, max / 2, max];
    for (const y of yTicks) {
      svg.append(s('text', {x: L - 6, y: yOf(y) + 4, 'text-anchor': 'end'}, num(y, 2)));
      svg.append(s('line', {x1: L, y1: yOf(y), x2: L + pw, y2: yOf(y), stroke: '#eef0f4'}));
    }
    counts.forEach((c, i) => {
      const f = opts.log ? (c > 0 ? Math.log1p(c) / Math.log1p(max) : 0) : c / max;
      const r = s('rect', {x: L + i * bw + 0.5, y: T + ph - f * ph, width: Math.max(1, bw - 1), height: f * ph,
        fill: opts.color || '#3457d5', opacity: 0.85});
      r.append(s('title', {}, `${opts.xLabel(x0 + i * step)} – ${opts.xLabel(x0 + (i + 1) * step)}: ${c}`));
      svg.append(r);
    });
    const ticks = opts.ticks || 5;
    for (let t = 0; t <= ticks; t++) {
      const x = L + pw * t / ticks;
      svg.append(s('text', {x, y: H - 8, 'text-anchor': 'middle'}, opts.xLabel(x0 + step * counts.length * t / ticks)));
    }
    if (opts.caption) svg.append(s('text', {x: L - 6, y: 10, 'text-anchor': 'start'}, opts.caption));
    return svg;
  }

  // ------------------------------------------------------------------ page frame
  function frame(ov, active) {
    const nav = h('nav', {},
      h('a', {href: 'index.html', class: active === 'overview' ? 'on' : null}, 'Overview'),
      ov.absorption ? h('a', {href: 'absorption.html', class: active === 'absorption' ? 'on' : null}, 'Absorption') : null,
      ov.compare ? h('a', {href: 'compare.html', class: active === 'compare' ? 'on' : null}, 'Compare') : null);
    const back = ov.compare && ov.compare.role === 'b'
      ? h('a', {class: 'back', href: ov.compare.href + 'index.html'}, '← ' + ov.compare.label) : null;
    document.getElementById('top').replaceChildren(
      ...[h('div', {class: 'brand'}, 'atmsae browse', h('small', {}, ov.label)), nav, back].filter(Boolean));
    document.title = ov.label + ' · atmsae browse';
  }

  // ------------------------------------------------------------------ overview
  async function overviewPage() {
    const ov = await load('data/overview.js');
    frame(ov, 'overview');
    const index = await load('data/index.js');
    const main = document.getElementById('main');
    const m = ov.metrics;
    const sub = [ov.sae.model_name, ov.data.hook_name || (ov.data.layer !== null ? 'layer ' + ov.data.layer : null)]
      .filter(Boolean).join(' · ');
    main.replaceChildren(
      h('h1', {}, ov.label),
      h('div', {class: 'sub'}, (sub ? sub + ' · ' : '') + 'harvest ' + ov.data.dir),
      h('div', {class: 'cards'},
        card('Architecture', ov.sae.arch + (ov.sae.k ? ' (k=' + ov.sae.k + ')' : '')),
        card('Width', ov.sae.d_sae.toLocaleString('en') + ' × ' + ov.sae.d_in),
        card('L0', num(m.l0)),
        card('FVU', num(m.fvu)),
        card('Dead latents', pct(m.dead_fraction)),
        card('Tokens', ov.data.tokens.toLocaleString('en'))),
      densityPanel(ov),
      latentTable(index));
  }

  function densityPanel(ov) {
    const d = ov.density_histogram;
    return h('div', {class: 'panel'},
      h('h2', {}, 'Feature density'),
      h('div', {class: 'muted', style: 'margin-bottom:6px'},
        'Latents by the fraction of tokens they fire on (log scale); ' + d.dead + ' never fired on these tokens.'),
      histogram(d.counts, d.log10_min, d.log10_step, {width: 760, height: 180, ticks: 7,
        xLabel: v => '1e' + Math.round(v), caption: 'latents per bin'}));
  }

  function latentTable(index) {
    const rows = index.rows.map((r, j) => ({id: j, density: r[0], mean: r[1], max: r[2], tokens: r[3]}));
    const maxDensity = Math.max(1e-12, ...rows.map(r => r.density));
    let sortKey = 'density', asc = false, shown = 100, filtered = rows;
    const tbody = h('tbody', {});
    const count = h('span', {class: 'muted'});
    const more = h('button', {onclick: () => { shown += 200; render(); }}, 'Show more');
    const input = h('input', {id: 'search', type: 'search', placeholder: 'Latent id (e.g. 42) or token (e.g. ##ing)',
      autocomplete: 'off'});
    const cols = [['id', 'Latent', true], ['density', 'Density', true], ['mean', 'Mean act.', true],
      ['max', 'Max act.', true], ['tokens', 'Top tokens', false]];
    const heads = cols.map(([key, label, sortable]) => {
      const th = h('th', {class: (sortable ? 'sort ' : '') + (key !== 'tokens' ? 'num' : '')}, label);
      if (sortable) th.addEventListener('click', () => {
        asc = sortKey === key ? !asc : key === 'id';
        sortKey = key;
        render();
      });
      th.dataset.key = key;
      return th;
    });
    function apply() {
      const q = input.value.trim().toLowerCase();
      if (!q) filtered = rows;
      else if (/^#?\d+$/.test(q)) {
        const id = parseInt(q.replace('#', ''), 10);
        filtered = rows.filter(r => r.id === id);
      } else filtered = rows.filter(r => r.tokens.toLowerCase().split(' ').some(t => t.includes(q)));
      shown = 100;
      render();
    }
    function render() {
      const sorted = filtered.slice().sort((a, b) => (asc ? 1 : -1) * (a[sortKey] - b[sortKey]) || a.id - b.id);
      heads.forEach(th => {
        th.classList.toggle('sorted', th.dataset.key === sortKey);
        th.classList.toggle('asc', th.dataset.key === sortKey && asc);
      });
      tbody.replaceChildren(...sorted.slice(0, shown).map(r => h('tr', {class: 'latrow', 'data-latent': r.id},
        h('td', {class: 'num'}, latentLink('', r.id)),
        h('td', {class: 'num barcell'}, num(r.density), ' ', bar(Math.log10(r.density * 1e7 + 1) / Math.log10(maxDensity * 1e7 + 1), 60)),
        h('td', {class: 'num'}, num(r.mean)),
        h('td', {class: 'num'}, num(r.max)),
        h('td', {class: 'toks'}, r.tokens || h('span', {class: 'muted'}, 'never fired')))));
      count.textContent = `${Math.min(shown, sorted.length)} of ${sorted.length} latents`;
      more.style.display = shown < sorted.length ? '' : 'none';
    }
    input.addEventListener('input', apply);
    input.addEventListener('keydown', e => {
      if (e.key === 'Enter' && filtered.length === 1) location.href = 'latent.html#' + filtered[0].id;
    });
    render();
    return h('div', {class: 'panel'},
      h('h2', {}, 'Latents'),
      h('div', {class: 'search'}, input, count),
      h('table', {id: 'latents'}, h('thead', {}, h('tr', {}, heads)), tbody),
      h('div', {class: 'pager'}, more));
  }

  // ------------------------------------------------------------------ latent page
  async function latentPage() {
    const ov = await load('data/overview.js');
    frame(ov, 'latent');
    const show = async () => {
      const j = parseInt(location.hash.slice(1), 10) || 0;
      if (j < 0 || j >= ov.sae.d_sae) throw new Error('no latent ' + j + ' (width ' + ov.sae.d_sae + ')');
      const chunk = await load('data/latents/c' + String(Math.floor(j / ov.chunk)).padStart(5, '0') + '.js');
      renderLatent(ov, chunk.latents[j - chunk.first]);
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', () => show().catch(fail));
    await show();
  }

  function renderLatent(ov, L) {
    const n = ov.sae.d_sae;
    const nav = h('div', {class: 'navlat'},
      L.id > 0 ? h('a', {href: '#' + (L.id - 1)}, h('button', {}, '← #' + (L.id - 1))) : null,
      L.id + 1 < n ? h('a', {href: '#' + (L.id + 1)}, h('button', {}, '#' + (L.id + 1) + ' →')) : null);
    const right = [histPanel(L), neighboursPanel(L)];
    if (L.tags) right.push(tagsPanel(L));
    document.getElementById('main').replaceChildren(
      nav,
      h('h1', {id: 'latent-title'}, 'Latent #' + L.id),
      h('div', {class: 'sub'}, ov.label),
      h('div', {class: 'cards'},
        card('Density', pct(L.density)), card('Tokens fired on', L.count.toLocaleString('en')),
        card('Mean act.', num(L.mean)), card('Max act.', num(L.max))),
      h('div', {class: 'grid2'}, contextsPanel(L), h('div', {}, right)));
  }

  function contextsPanel(L) {
    const panel = h('div', {class: 'panel', id: 'contexts'},
      h('h2', {}, 'Top activating contexts'),
      h('div', {class: 'muted', style: 'margin-bottom:6px'}, 'Shading: activation of this latent on each token, 0',
        h('span', {class: 'legend'}), num(L.max), '; the outlined token is where it fired most in that context.'));
    if (!L.contexts.length) {
      panel.append(h('p', {class: 'muted'}, 'This latent never fired on the harvested tokens.'));
      return panel;
    }
    L.contexts.forEach((c, i) => {
      const line = h('div', {class: 'ctx' + (i === 0 ? ' top' : '')},
        h('span', {class: 'meta', title: 'harvest row ' + c.row}, num(c.act) + ' · ' + c.doc));
      c.toks.forEach((t, q) => {
        const a = c.acts[q];
        const alpha = L.max > 0 ? Math.min(1, a / L.max) : 0;
        if (spaceBefore(t, q === 0)) line.append(' ');
        line.append(h('span', {class: 'tok' + (q === c.at ? ' max' : ''), title: t + ': ' + num(a, 4),
          style: a > 0 ? `background: rgba(var(--hot), ${(0.12 + 0.88 * alpha).toFixed(3)})` : null},
        tokenText(t)));
      });
      panel.append(line);
    });
    return panel;
  }

  function histPanel(L) {
    const hst = L.hist;
    if (!hst.counts.length) return h('div', {class: 'panel'}, h('h2', {}, 'Activations'), h('p', {class: 'muted'}, 'none'));
    const step = hst.range / hst.bins;
    return h('div', {class: 'panel'}, h('h2', {}, 'Non-zero activations'),
      histogram(hst.counts, 0, step, {width: 400, height: 160, ticks: 4, xLabel: v => num(v, 2), log: true,
        color: '#ff7a1a', caption: 'tokens (log)'}));
  }

  function neighboursPanel(L) {
    return h('div', {class: 'panel', id: 'neighbours'}, h('h2', {}, 'Nearest latents (decoder cosine)'),
      h('table', {}, h('tbody', {}, L.neighbours.map(([j, c]) => h('tr', {},
        h('td', {}, latentLink('', j)), h('td', {class: 'num'}, num(c)),
        h('td', {class: 'barcell'}, bar(Math.max(0, c), 120)))))));
  }

  function tagsPanel(L) {
    const total = Object.values(L.tags).reduce((a, b) => a + b, 0);
    const entries = Object.entries(L.tags).sort((a, b) => b[1] - a[1]);
    return h('div', {class: 'panel', id: 'tags'}, h('h2', {}, 'POS tags of the top ' + total + ' activations'),
      h('table', {}, h('tbody', {}, entries.map(([t, c]) => h('tr', {},
        h('td', {}, t === '-' ? h('span', {class: 'muted'}, 'no tag') : t), h('td', {class: 'num'}, c),
        h('td', {class: 'barcell'}, bar(c / total, 140)))))));
  }

  // ------------------------------------------------------------------ absorption
  async function absorptionPage() {
    const ov = await load('data/overview.js');
    frame(ov, 'absorption');
    if (!ov.absorption) throw new Error('this site was built without --probe-set');
    const ab = await load('data/absorption.js');
    const main = document.getElementById('main');
    const pills = h('div', {id: 'classes'});
    const detail = h('div', {id: 'class-detail'});
    const pick = name => {
      const c = ab.classes.find(x => x.name === name) || ab.classes.find(x => x.kept) || ab.classes[0];
      for (const p of pills.children) p.classList.toggle('on', p.dataset.name === c.name);
      detail.replaceChildren(classDetail(c, ''));
    };
    ab.classes.forEach(c => pills.append(h('span', {class: 'pill' + (c.kept ? '' : ' dropped'), 'data-name': c.name,
      onclick: () => { location.hash = encodeURIComponent(c.name); }},
    c.name, h('small', {}, c.kept ? num(c.fraction, 2) : 'dropped'))));
    main.replaceChildren(
      h('h1', {}, 'Absorption on ' + ab.probe_set.name),
      h('div', {class: 'sub'}, ov.label + ' · ' + ab.rule_version),
      summaryCards(ab),
      h('div', {class: 'panel'}, h('h2', {}, 'Parent classes'),
        h('div', {class: 'muted', style: 'margin-bottom:8px'},
          'Each pill shows the class\'s mean absorption fraction; dashed classes were left out of the means.'), pills),
      detail);
    window.addEventListener('hashchange', () => pick(decodeURIComponent(location.hash.slice(1))));
    pick(decodeURIComponent(location.hash.slice(1)));
  }

  function summaryCards(ab) {
    return h('div', {class: 'cards'},
      card('Probe set', ab.probe_set.kind + (ab.probe_set.layer !== null && ab.probe_set.layer !== undefined
        ? ' · layer ' + ab.probe_set.layer : '')),
      card('Classes kept', ab.classes_kept + ' / ' + ab.classes.length + (ab.valid ? '' : ' (not valid)')),
      card('Absorption fraction', num(ab.mean_absorption_fraction)),
      card('Full absorption', num(ab.mean_full_absorption)),
      card('Main latents / class', num(ab.mean_num_split_features)));
  }

  function classDetail(c, base) {
    const head = h('div', {class: 'panel'},
      h('h2', {}, 'Class ' + c.name + (c.kept ? '' : ' (left out of the means)')),
      c.kept ? null : h('p', {class: 'warn'}, c.drop_reason),
      h('div', {class: 'cards'},
        card('Probe F1', num(c.probe_f1)), card('Scored rows', c.n_scored), card('Absorbed rows', c.n_absorbed),
        card('Absorption fraction', num(c.fraction)), card('Full absorption', num(c.full))),
      h('div', {class: 'cmp'},
        h('div', {}, h('h2', {}, 'Main latents'),
          h('p', {}, c.main.length ? c.main.map(j => h('span', {class: 'chip'}, latentLink(base, j))) : 'none'),
          h('p', {class: 'muted'}, 'Latent most aligned with the probe: ', latentLink(base, c.top_cos_latent),
            ' (cos ' + num(c.top_cos) + ')')),
        h('div', {}, h('h2', {}, 'Absorbing latents'), absorbingTable(c, base))),
      c.children.length > 1 ? childTable(c) : null);
    const rows = h('div', {class: 'panel'},
      h('h2', {}, 'Where absorption happened'),
      h('div', {class: 'muted', style: 'margin-bottom:6px'},
        'Scored test words of ' + c.name + ' where the main latents missed part of the probe direction: ' +
        'main share = Σ main-latent projection / A, absorber share = its projection / A (A = x·p̂).' +
        (c.rows.length < c.n_absorbed ? ` Showing ${c.rows.length} of ${c.n_absorbed}.` : '')),
      c.rows.length ? h('table', {id: 'absorbed-rows'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Word'), h('th', {}, 'Child'), h('th', {class: 'num'}, 'A'),
          h('th', {}, 'Main share'), h('th', {class: 'num'}, 'Fraction'), h('th', {}, 'Full'), h('th', {}, 'Absorbed by (share)'))),
        h('tbody', {}, c.rows.map(r => h('tr', {class: 'absrow'},
          h('td', {}, h('b', {}, r.word === null ? 'row ' + r.row : r.word)),
          h('td', {class: 'muted'}, r.child),
          h('td', {class: 'num'}, num(r.a)),
          h('td', {class: 'barcell'}, bar(r.main_share, 70), ' ', num(r.main_share, 2)),
          h('td', {class: 'num'}, num(r.fraction, 2)),
          h('td', {}, r.full ? h('span', {class: 'yes'}, '✓') : h('span', {class: 'no'}, '–')),
          h('td', {}, r.absorbers.map(([j, sh]) => h('span', {class: 'chip abs'}, latentLink(base, j), ' ' + num(sh, 2))))))))
        : h('p', {class: 'muted'}, 'No scored row of this class was absorbed.'));
    return h('div', {}, head, rows);
  }

  function absorbingTable(c, base) {
    if (!c.absorbing.length) return h('p', {class: 'muted'}, 'none');
    return h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Latent'), h('th', {class: 'num'}, 'Rows'),
      h('th', {class: 'num'}, 'cos with probe'), h('th', {}, 'Children'))),
    h('tbody', {}, c.absorbing.map(a => h('tr', {}, h('td', {}, latentLink(base, a.latent)),
      h('td', {class: 'num'}, a.count), h('td', {class: 'num'}, num(a.cos)),
      h('td', {class: 'muted'}, Object.entries(a.children).map(([k, v]) => k + ' ' + v).join(', '))))));
  }

  function childTable(c) {
    return h('details', {style: 'margin-top:10px'}, h('summary', {}, 'By child class (' + c.children.length + ')'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Child'), h('th', {class: 'num'}, 'Scored'),
        h('th', {class: 'num'}, 'Fraction'), h('th', {class: 'num'}, 'Full'))),
      h('tbody', {}, c.children.map(b => h('tr', {}, h('td', {}, b.child), h('td', {class: 'num'}, b.n),
        h('td', {class: 'num'}, num(b.fraction)), h('td', {class: 'num'}, num(b.full)))))));
  }

  // ------------------------------------------------------------------ compare
  async function comparePage() {
    const ov = await load('data/overview.js');
    frame(ov, 'compare');
    if (!ov.compare) throw new Error('this site was built without --compare');
    const other = ov.compare.href;
    const ovB = await load(other + 'data/overview.js');
    const abA = ov.absorption ? await load('data/absorption.js') : null;
    const abB = ovB.absorption ? await load(other + 'data/absorption.js') : null;
    const sides = [{ov, ab: abA, base: ''}, {ov: ovB, ab: abB, base: other}];
    const metric = (label, f) => h('tr', {}, h('th', {}, label), ...sides.map(x => h('td', {class: 'num'}, f(x))));
    const main = document.getElementById('main');
    main.replaceChildren(
      h('h1', {}, 'Compare'),
      h('div', {class: 'sub'}, ov.label + '  vs  ' + ovB.label + ' · same harvest, same probes'),
      h('div', {class: 'panel'}, h('table', {id: 'compare-metrics', class: 'cols2'},
        h('thead', {}, h('tr', {}, h('th', {}, ''), ...sides.map(x => h('th', {class: 'num'},
          h('a', {href: x.base + 'index.html'}, x.ov.label))))),
        h('tbody', {},
          metric('Architecture', x => x.ov.sae.arch),
          metric('Width', x => x.ov.sae.d_sae),
          metric('L0', x => num(x.ov.metrics.l0)),
          metric('FVU', x => num(x.ov.metrics.fvu)),
          metric('Dead latents', x => pct(x.ov.metrics.dead_fraction)),
          abA && abB ? metric('Absorption fraction', x => num(x.ab.mean_absorption_fraction)) : null,
          abA && abB ? metric('Full absorption', x => num(x.ab.mean_full_absorption)) : null,
          abA && abB ? metric('Main latents / class', x => num(x.ab.mean_num_split_features)) : null))));
    if (!(abA && abB)) {
      main.append(h('p', {class: 'muted'}, 'Build with --probe-set to compare absorption.'));
      return;
    }
    const grid = h('table', {id: 'compare-classes'}, h('thead', {}, h('tr', {}, h('th', {}, 'Class'),
      ...sides.map(x => h('th', {}, x.ov.label)))));
    const tbody = h('tbody', {});
    abA.classes.forEach(cA => {
      const cB = abB.classes.find(x => x.name === cA.name);
      const cell = (c, base, ab) => {
        if (!c) return h('td', {class: 'muted'}, 'not scored');
        return h('td', {class: 'cmpcell'},
          h('div', {}, h('b', {}, 'fraction ' + num(c.fraction, 2)), ' · full ' + num(c.full, 2) + ' · ',
            h('a', {href: base + 'absorption.html#' + encodeURIComponent(c.name)}, c.n_absorbed + ' absorbed words')),
          h('div', {}, h('span', {class: 'muted'}, 'main '), c.main.map(j => h('span', {class: 'chip'}, latentLink(base, j)))),
          c.absorbing.length ? h('div', {}, h('span', {class: 'muted'}, 'absorbing '),
            c.absorbing.slice(0, 4).map(a => h('span', {class: 'chip abs'}, latentLink(base, a.latent), ' ×' + a.count))) : null,
          c.rows.length ? h('div', {class: 'toks'}, topWords(c.rows, 10)) : null);
      };
      tbody.append(h('tr', {class: 'cmprow' + (cA.kept ? '' : ' muted')}, h('td', {}, h('b', {}, cA.name),
        cA.kept ? null : h('div', {class: 'muted'}, 'dropped')), cell(cA, '', abA), cell(cB, other, abB)));
    });
    grid.append(tbody);
    main.append(h('div', {class: 'panel'}, h('h2', {}, 'Absorption by parent class'), grid));
  }

  /** "dog ×59, cat ×3": the most frequent words among absorbed rows. */
  function topWords(rows, k) {
    const counts = new Map();
    rows.forEach(r => { if (r.word !== null) counts.set(r.word, (counts.get(r.word) || 0) + 1); });
    return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, k)
      .map(([w, n]) => n > 1 ? w + ' ×' + n : w).join(', ');
  }

  const pages = {overview: overviewPage, latent: latentPage, absorption: absorptionPage, compare: comparePage};
  const page = pages[document.body.dataset.page];
  if (page) page().catch(fail);
})();
