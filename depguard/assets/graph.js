/* depguard graph page: inlined into the HTML by depguard/graph_html.py.
 * Plain JS, no library. Reads the JSON in #depguard-data, lays the graph out in
 * layers by depth (roots at the left), draws it in SVG, and wires search,
 * zoom/pan, node details with shortest chains from the roots, and findings.
 * Text from the data is only ever set through textContent, never as markup. */
(function () {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";
  const COL_W = 190, ROW_H = 18, LAYER_GAP = 110, LABEL_MAX = 26;
  const data = JSON.parse(document.getElementById("depguard-data").textContent);
  const nodes = data.nodes, edges = data.edges, findings = data.findings;
  const N = nodes.length;
  const outs = nodes.map(() => []), ins = nodes.map(() => []);
  edges.forEach(function (e) { outs[e[0]].push(e[1]); ins[e[1]].push(e[0]); });
  const byId = new Map(nodes.map((n, i) => [n.id, i]));
  const $ = (id) => document.getElementById(id);
  const svg = $("graph");
  const view = { k: 1, x: 0, y: 0 };
  let nodeEls = [], posX = new Float64Array(N), posY = new Float64Array(N);
  let selected = -1, marked = [];
  const boosted = new Set();  /* drawn at a readable size however far out the zoom is */

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svgEl(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function sevClass(sev) {
    if (sev === "malicious") return "sev-malicious";
    if (sev === "critical" || sev === "high") return "sev-high";
    return "sev-low";
  }
  function label(i) {
    const n = nodes[i];
    return n.version ? n.name + " " + n.version : n.name;
  }

  /* ---- layout: layers by depth, barycentre order, tall layers wrapped ---- */
  function layerOf(i) { return nodes[i].depth === null ? -1 : nodes[i].depth; }
  function bestRows(sizes) {
    /* rows per column so that the drawing's shape is close to the window's */
    const r = svg.getBoundingClientRect();
    const aspect = r.width > 0 && r.height > 0 ? r.width / r.height : 1.6;
    let best = 1, score = Infinity;
    const most = Math.max.apply(null, sizes);
    for (let rows = 8; rows < most + 8; rows = Math.ceil(rows * 1.08)) {
      let w = -LAYER_GAP;
      sizes.forEach((n) => { if (n) w += Math.ceil(n / rows) * COL_W + LAYER_GAP; });
      const h = Math.min(rows, most) * ROW_H;
      const s = Math.abs(Math.log(w / h / aspect));
      if (s < score) { score = s; best = rows; }
    }
    return best;
  }
  function layout() {
    let maxDepth = 0;
    nodes.forEach((n) => { if (n.depth !== null && n.depth > maxDepth) maxDepth = n.depth; });
    const layers = [];
    for (let d = 0; d <= maxDepth + 1; d++) layers.push([]);
    nodes.forEach((n, i) => layers[n.depth === null ? maxDepth + 1 : n.depth].push(i));
    const rank = new Float64Array(N).fill(-1);
    layers.forEach(function (layer, d) {
      const key = new Float64Array(N);
      layer.forEach(function (i) {
        let sum = 0, cnt = 0;
        ins[i].forEach((p) => { if (rank[p] >= 0) { sum += rank[p]; cnt++; } });
        key[i] = cnt ? sum / cnt : (d === 0 ? 0 : 2);
      });
      layer.sort((a, b) => key[a] - key[b] || (nodes[a].name < nodes[b].name ? -1 : 1));
      layer.forEach((i, k) => { rank[i] = layer.length > 1 ? k / (layer.length - 1) : 0.5; });
    });
    const rows = bestRows(layers.map((l) => l.length));
    const shapes = layers.map((l) => {
      const cols = Math.max(1, Math.ceil(l.length / rows));
      return { cols: cols, rows: Math.ceil(l.length / cols) };
    });
    const maxRows = Math.max.apply(null, shapes.map((s) => s.rows));
    const heads = [];
    let x = 0;
    layers.forEach(function (layer, d) {
      if (!layer.length) return;
      const s = shapes[d], top = (maxRows - s.rows) * ROW_H / 2;
      layer.forEach(function (i, k) {
        posX[i] = x + (k % s.cols) * COL_W;
        posY[i] = top + Math.floor(k / s.cols) * ROW_H;
      });
      const name = d === maxDepth + 1 ? "unreachable" : d === 0 ? "roots"
        : d === 1 ? "direct" : "depth " + d;
      heads.push({ x: x, text: name + " \u00b7 " + layer.length });
      x += s.cols * COL_W + LAYER_GAP;
    });
    return { heads: heads, width: x - LAYER_GAP, height: maxRows * ROW_H };
  }

  /* ---- drawing ---- */
  function curve(a, b) {
    const x1 = posX[a], y1 = posY[a], x2 = posX[b], y2 = posY[b];
    const dx = Math.max(30, Math.abs(x2 - x1) / 2);
    return "M" + x1.toFixed(1) + " " + y1.toFixed(1) + "C" + (x1 + dx).toFixed(1) + " " +
      y1.toFixed(1) + " " + (x2 - dx).toFixed(1) + " " + y2.toFixed(1) + " " +
      x2.toFixed(1) + " " + y2.toFixed(1);
  }
  function draw(shape) {
    const root = svgEl("g", { id: "viewport" });
    const heads = svgEl("g", { id: "layer-labels" });
    shape.heads.forEach(function (h) {
      const t = svgEl("text", { x: h.x - 6, y: -12, class: "layer-label" });
      t.textContent = h.text;
      heads.appendChild(t);
    });
    root.appendChild(heads);
    root.appendChild(svgEl("path", { id: "edges", d: edges.map((e) => curve(e[0], e[1])).join("") }));
    root.appendChild(svgEl("path", { id: "near-edges", d: "" }));
    root.appendChild(svgEl("path", { id: "chain-edges", d: "" }));
    const layer = svgEl("g", { id: "nodes" });
    nodeEls = nodes.map(function (n, i) {
      let cls = "node" + (n.root ? " root" : n.direct ? " direct" : "");
      if (n.scope !== "prod") cls += " nonprod";
      if (n.flag) cls += " flag " + sevClass(n.flag);
      const g = svgEl("g", { class: cls, "data-id": n.id,
        transform: "translate(" + posX[i].toFixed(1) + "," + posY[i].toFixed(1) + ")" });
      g.dataset.index = String(i);
      const body = svgEl("g", { class: "body" });
      body.appendChild(svgEl("circle", { class: "halo", r: 10 }));
      body.appendChild(svgEl("circle", { class: "dot-shape", r: n.root ? 7 : n.flag ? 5.5 : 4 }));
      const t = svgEl("text", { x: n.root ? 10 : 7 });
      const text = label(i);
      t.textContent = text.length > LABEL_MAX ? text.slice(0, LABEL_MAX - 1) + "\u2026" : text;
      body.appendChild(t);
      g.appendChild(body);
      if (n.root || n.flag) boosted.add(i);
      const title = svgEl("title", {});
      title.textContent = label(i);
      g.appendChild(title);
      layer.appendChild(g);
      return g;
    });
    boosted.forEach((i) => layer.appendChild(nodeEls[i]));  /* flagged nodes on top */
    root.appendChild(layer);
    svg.appendChild(root);
  }

  /* ---- zoom and pan ---- */
  let frame = 0;
  function apply() {
    if (frame) return;
    frame = requestAnimationFrame(function () {
      frame = 0;
      $("viewport").setAttribute("transform",
        "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")");
      svg.classList.toggle("far", view.k < 0.75);
      const grow = "scale(" + Math.max(1, 0.85 / view.k).toFixed(3) + ")";
      boosted.forEach((i) => nodeEls[i].firstChild.setAttribute("transform", grow));
      if (selected >= 0) nodeEls[selected].firstChild.setAttribute("transform", grow);
      $("layer-labels").setAttribute("font-size", Math.min(28, Math.max(13, 11 / view.k)).toFixed(1));
    });
  }
  function fit(shape) {
    const r = svg.getBoundingClientRect(), pad = 40;
    const w = Math.max(shape.width, 1) + 2 * pad, h = shape.height + 2 * pad + 30;
    view.k = Math.min(2, Math.min(r.width / w, r.height / h));
    view.x = (r.width - shape.width * view.k) / 2;
    view.y = (r.height - shape.height * view.k) / 2 + 15;
    apply();
  }
  function zoomAt(px, py, factor) {
    const k = Math.min(6, Math.max(0.02, view.k * factor));
    view.x = px - (px - view.x) * k / view.k;
    view.y = py - (py - view.y) * k / view.k;
    view.k = k;
    apply();
  }
  function centerOn(i) {
    const r = svg.getBoundingClientRect();
    view.k = Math.max(view.k, 1.1);
    view.x = r.width / 2 - posX[i] * view.k;
    view.y = r.height / 2 - posY[i] * view.k;
    apply();
  }
  function wirePanZoom(shape) {
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      const r = svg.getBoundingClientRect();
      zoomAt(ev.clientX - r.left, ev.clientY - r.top, Math.exp(-ev.deltaY * 0.0015));
    }, { passive: false });
    let drag = null;
    svg.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) return;
      const hit = ev.target.closest ? ev.target.closest(".node") : null;
      drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false, node: hit };
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!drag.moved && dx * dx + dy * dy < 16) return;
      drag.moved = true;
      svg.classList.add("dragging");
      view.x = drag.vx + dx;
      view.y = drag.vy + dy;
      apply();
    });
    svg.addEventListener("pointerup", function () {
      if (drag && !drag.moved) {
        if (drag.node) select(Number(drag.node.dataset.index), false);
        else clearSelection();
      }
      drag = null;
      svg.classList.remove("dragging");
    });
    $("fit").addEventListener("click", () => fit(shape));
  }

  /* ---- shortest chains from the roots (BFS back-pointers) ---- */
  const dist = new Int32Array(N).fill(-1), ways = new Float64Array(N);
  (function bfs() {
    const queue = [];
    nodes.forEach((n, i) => { if (n.root) { dist[i] = 0; ways[i] = 1; queue.push(i); } });
    for (let h = 0; h < queue.length; h++) {
      const v = queue[h];
      outs[v].forEach(function (w) {
        if (dist[w] < 0) { dist[w] = dist[v] + 1; queue.push(w); }
        if (dist[w] === dist[v] + 1) ways[w] += ways[v];
      });
    }
  })();
  function chainsTo(target, limit) {
    const found = [];
    (function back(v, tail) {
      if (found.length >= limit) return;
      if (nodes[v].root) { found.push([v].concat(tail)); return; }
      const parents = ins[v].filter((p) => dist[p] === dist[v] - 1);
      parents.sort((a, b) => (nodes[a].name < nodes[b].name ? -1 : 1));
      parents.forEach((p) => back(p, [v].concat(tail)));
    })(target, []);
    if (dist[target] < 0) return { chains: [], more: 0 };
    found.sort((a, b) => a.length - b.length);
    return { chains: found, more: Math.max(0, ways[target] - found.length) };
  }

  /* ---- selection ---- */
  function clearMarks() {
    marked.forEach((i) => nodeEls[i].classList.remove("chain", "selected"));
    if (selected >= 0 && !boosted.has(selected)) nodeEls[selected].firstChild.removeAttribute("transform");
    marked = [];
    $("chain-edges").setAttribute("d", "");
    $("near-edges").setAttribute("d", "");
    document.querySelectorAll("#findings-list .finding.active")
      .forEach((f) => f.classList.remove("active"));
  }
  function clearSelection() {
    clearMarks();
    selected = -1;
    const box = $("details");
    box.replaceChildren(el("h2", "", "Package"),
      el("p", "hint", "Click a package, a finding or a search result to see its details."));
  }
  function select(i, center) {
    clearMarks();
    selected = i;
    const res = chainsTo(i, data.chain_limit);
    const onChain = new Set(), chainPaths = [];
    res.chains.forEach(function (c) {
      c.forEach((v) => onChain.add(v));
      for (let k = 1; k < c.length; k++) chainPaths.push(curve(c[k - 1], c[k]));
    });
    onChain.forEach((v) => { nodeEls[v].classList.add("chain"); marked.push(v); });
    nodeEls[i].classList.add("selected");
    marked.push(i);
    const near = ins[i].map((p) => curve(p, i)).concat(outs[i].map((c) => curve(i, c)));
    $("near-edges").setAttribute("d", near.join(""));
    $("chain-edges").setAttribute("d", chainPaths.join(""));
    document.querySelectorAll("#findings-list .finding").forEach(function (f) {
      if (findings[Number(f.dataset.index)].nodes.indexOf(i) >= 0) f.classList.add("active");
    });
    showDetails(i, res);
    if (center) centerOn(i);
    else apply();
  }
  function nodeLink(i, text) {
    const a = el("span", "link", text);
    a.title = label(i);
    a.addEventListener("click", () => select(i, true));
    return a;
  }
  function row(dl, name, value) {
    dl.appendChild(el("dt", "", name));
    dl.appendChild(el("dd", "", value));
  }
  function showDetails(i, res) {
    const n = nodes[i], box = $("details");
    const dl = el("dl");
    row(dl, "version", n.version || "(unpinned)");
    row(dl, "ecosystem", n.ecosystem);
    row(dl, "scope", n.scope);
    row(dl, "relation", n.root ? "root" : n.depth === null ? "unreachable"
      : n.direct ? "direct" : "transitive");
    row(dl, "depth", n.depth === null ? "-" : n.depth);
    row(dl, "manifest", n.manifest || "-");
    row(dl, "used by", ins[i].length + " package(s)");
    row(dl, "depends on", outs[i].length + " package(s)");
    const parts = [el("h2", "", n.name), dl];
    if (!n.root) {
      parts.push(el("h3", "", "Chains from the root"));
      const list = el("ul", "plain chains");
      res.chains.forEach(function (c) {
        const li = el("li", "chain");
        c.forEach(function (v, k) {
          if (k) li.appendChild(document.createTextNode(" > "));
          li.appendChild(nodeLink(v, nodes[v].name));
        });
        list.appendChild(li);
      });
      if (!res.chains.length) list.appendChild(el("li", "more", "not reachable from a root"));
      parts.push(list);
      if (res.more) parts.push(el("p", "more", "... and " + res.more + " more shortest chains"));
    }
    const own = findings.filter((f) => f.nodes.indexOf(i) >= 0);
    if (own.length) {
      parts.push(el("h3", "", "Findings"));
      own.forEach((f) => parts.push(findingCard(f, true)));
    }
    box.replaceChildren.apply(box, parts);
    box.scrollIntoView({ block: "nearest" });
  }

  /* ---- findings ---- */
  function findingCard(f, full) {
    const card = el("div", "finding " + sevClass(f.severity));
    card.appendChild(el("span", "badge " + sevClass(f.severity), f.severity));
    card.appendChild(el("span", "pkg", f.version ? f.package + " " + f.version : f.package));
    card.appendChild(el("div", "meta", f.rule + (f.id ? " \u00b7 " + f.id : "")));
    if (full || !f.nodes.length) card.appendChild(el("div", "msg", f.message));
    if (full && f.action) card.appendChild(el("div", "action", f.action));
    if (!f.nodes.length) card.appendChild(el("div", "meta", "not in the drawn graph"));
    return card;
  }
  function drawFindings() {
    const list = $("findings-list");
    if (!findings.length) list.appendChild(el("p", "hint", "No findings."));
    findings.forEach(function (f, k) {
      const card = findingCard(f, false);
      card.dataset.index = String(k);
      if (f.nodes.length) card.addEventListener("click", () => select(f.nodes[0], true));
      else card.classList.add("unplaced");
      list.appendChild(card);
    });
  }

  /* ---- search ---- */
  function wireSearch() {
    const input = $("search"), results = $("search-results"), count = $("search-count");
    let matches = [];
    function run() {
      const q = input.value.trim().toLowerCase();
      matches.forEach((i) => nodeEls[i].classList.remove("match"));
      results.replaceChildren();
      matches = [];
      if (q) {
        nodes.forEach((n, i) => { if (label(i).toLowerCase().indexOf(q) >= 0) matches.push(i); });
        matches.sort((a, b) => (nodes[a].name.toLowerCase().indexOf(q) -
          nodes[b].name.toLowerCase().indexOf(q)) || nodes[a].name.length - nodes[b].name.length);
      }
      matches.forEach((i) => nodeEls[i].classList.add("match"));
      svg.classList.toggle("searching", q.length > 0);
      count.textContent = q ? matches.length + " match" + (matches.length === 1 ? "" : "es") : "";
      matches.slice(0, 30).forEach(function (i) {
        const li = el("li", "", label(i));
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
        results.appendChild(li);
      });
    }
    function pick(i) { results.replaceChildren(); select(i, true); }
    input.addEventListener("input", run);
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && matches.length) pick(matches[0]);
      if (ev.key === "Escape") { input.value = ""; run(); input.blur(); }
    });
    input.addEventListener("blur", () => results.replaceChildren());
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "/" && document.activeElement !== input) { ev.preventDefault(); input.focus(); }
      if (ev.key === "Escape" && document.activeElement !== input) clearSelection();
    });
  }

  const shape = layout();
  draw(shape);
  drawFindings();
  wirePanZoom(shape);
  wireSearch();
  clearSelection();
  fit(shape);
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && byId.has(wanted)) select(byId.get(wanted), true);
  document.body.dataset.ready = "true";
})();
