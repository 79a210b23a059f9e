// journal-proxy log page. Log text is only ever set with textContent, never as HTML.
"use strict";
(function () {
  const log = document.getElementById("log");
  const body = document.body;
  const statusEl = document.getElementById("status");
  const liveEl = document.getElementById("live");
  const CLASS_OK = /^[a-z0-9 ]*$/;
  let lastLine = 0;
  let chunk = log.querySelector(".chunk:last-of-type");
  let chunkLines = 0;
  let localTime = localStorage.getItem("jp-tz") === "local";
  // Timestamps: "clock" (as the server writes them), "relative" (+1:02.345 since the start), "off".
  const TIME_MODES = ["clock", "relative", "off"];
  let timeMode = TIME_MODES.indexOf(localStorage.getItem("jp-times")) >= 0 ? localStorage.getItem("jp-times") : "clock";
  const startedEl = document.getElementById("started");
  const startMs = startedEl && startedEl.dateTime ? Date.parse(startedEl.dateTime) : NaN;

  function lines() { return log.getElementsByClassName("l"); }
  function lineNo(el) { return parseInt(el.id.slice(1), 10); }

  // ---- big logs: blocks of lines that arrive inside <noscript class="chunk"> -------------
  // With scripting on, the browser keeps a <noscript>'s content as one text node instead of
  // building elements, so a 100,000-line page loads quickly (see renderers/html.py).  Each block
  // becomes a placeholder of the right height and is turned into elements when it nears the
  // screen, by a reader for exactly the markup the server writes: it creates only div, span and
  // a elements (a link only to an http(s) URL, checked again by safeHref), sets text with
  // textContent, and shows anything it does not recognise as text.
  const LINE_RE = /^<div id="L(\d+)" class="l p([0-7])((?: [a-z]+)*)" data-n="\d+" data-t="([^"<>]*)" data-h="([^"<>]*)"(?: data-group="(\d+)")?>([\s\S]*)$/;
  const SH_RE = /^<div class="sh" id="S(\d+)" data-step="\d+" data-first="(\d+)">([^<]*)$/;
  // The only extra classes a line may carry: systemd's own, error (and a later line of one),
  // warning, group header
  // (expanded, quiet) and group end/reopen marker (see renderers/html.py).
  const EXTRA = new Set(["sys", "e", "ec", "w", "gh", "gx", "gq", "gm"]);
  const TAG_RE = /<[^>]*>/g;
  const PART_RE = /<span class="([a-z0-9 ]*)">([^<]*)<\/span>|<a class="([a-z0-9 ]*)" href="([^"<>]*)" rel="noopener noreferrer nofollow">([^<]*)<\/a>|([^<]+)/g;
  const ENTITY_RE = /&(amp|lt|gt|quot|#x27);/g;
  const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: "\"", "#x27": "'" };
  const LINE_START = '<div id="L';
  const LINE_END = "</div>\n";
  const pending = new Map();  // placeholder -> the block's source text, until it is built
  let lineHeight = 19.5;
  function unescapeText(s) { return s.indexOf("&") < 0 ? s : s.replace(ENTITY_RE, (m, name) => ENTITIES[name]); }
  function extraClasses(list) {
    let out = "";
    for (const c of list.split(" ")) if (EXTRA.has(c)) out += " " + c;
    return out;
  }
  function lineFromSource(src) {
    const m = LINE_RE.exec(src);
    const div = document.createElement("div");
    if (!m) {
      const h = SH_RE.exec(src);
      if (h) return stepHeader(+h[1], +h[2], unescapeText(h[3]));
      // never expected: shown as text rather than lost
      div.className = "l p6";
      div.textContent = src;
      return div;
    }
    div.id = "L" + m[1];
    div.className = "l p" + m[2] + extraClasses(m[3]);
    div.dataset.n = m[1];
    if (m[6]) div.dataset.group = m[6];
    div.dataset.t = unescapeText(m[4]);
    div.dataset.h = unescapeText(m[5]);
    if (localTime || timeMode !== "clock") setLineTime(div);
    PART_RE.lastIndex = 0;
    let part;
    while ((part = PART_RE.exec(m[7])) !== null) {
      if (part[6] !== undefined) div.appendChild(document.createTextNode(unescapeText(part[6])));
      else if (part[4] !== undefined) div.appendChild(textPart(part[3], unescapeText(part[5]), unescapeText(part[4])));
      else div.appendChild(textPart(part[1], unescapeText(part[2]), null));
    }
    return div;
  }

  // ---- text with colours and links, from DOM calls only ----------------------------------
  // A link is made only for an http: or https: URL (checked again here, whatever the server
  // sent); its text is set with textContent.  URL_RE and the trimming are the server's
  // (journal_proxy/ansi.py), for lines that arrive live.
  const URL_RE = /[hH][tT][tT][pP][sS]?:\/\/[A-Za-z0-9\[][^\s\ufeff\x1c-\x1f\x85<>"'`]*/g;
  const URL_TRAILING = ".,;:!?)]}*";
  const LINK_REL = "noopener noreferrer nofollow";
  function safeHref(href) {
    if (typeof href !== "string" || href.length > 2048 || !/^https?:\/\//i.test(href)) return null;
    try {
      const u = new URL(href);
      return u.protocol === "http:" || u.protocol === "https:" ? href : null;
    } catch (e) {
      return null;
    }
  }
  function textPart(cls, text, href) {
    const safe = href == null ? null : safeHref(href);
    if (!safe && !(cls && CLASS_OK.test(cls))) return document.createTextNode(text);
    const el = document.createElement(safe ? "a" : "span");
    if (cls && CLASS_OK.test(cls)) el.className = cls;
    if (safe) { el.href = safe; el.rel = LINK_REL; }
    el.textContent = text;
    return el;
  }
  function trimUrl(url) {
    while (url && URL_TRAILING.indexOf(url[url.length - 1]) >= 0) {
      if (url[url.length - 1] === ")" && url.split("(").length >= url.split(")").length) break;
      url = url.slice(0, -1);
    }
    return url;
  }
  function findUrls(text) {
    const found = [];
    if (text.indexOf("://") < 0) return found;
    URL_RE.lastIndex = 0;
    let m;
    while ((m = URL_RE.exec(text)) !== null) {
      const url = trimUrl(m[0]);
      if (url.length <= 2048 && !url.endsWith("://")) found.push([m.index, m.index + url.length]);
    }
    return found;
  }
  // [[classes, text]] runs -> the same runs cut at URL boundaries, with each link's target.
  function withLinks(spans) {
    const plain = spans.map((s) => s[1]).join("");
    const urls = findUrls(plain);
    if (!urls.length) return spans.map((s) => [s[0], s[1], null]);
    const out = [];
    let pos = 0;
    for (const [cls, run] of spans) {
      const start = pos, end = pos + run.length;
      pos = end;
      let cut = start;
      for (const [a, b] of urls) {
        if (b <= cut || a >= end) continue;
        if (a > cut) out.push([cls, plain.slice(cut, a), null]);
        const stop = Math.min(b, end);
        out.push([cls, plain.slice(Math.max(a, cut), stop), plain.slice(a, b)]);
        cut = stop;
      }
      if (cut < end) out.push([cls, plain.slice(cut, end), null]);
    }
    return out;
  }
  function build(block) {
    const src = pending.get(block);
    if (src === undefined) return;
    pending.delete(block);
    lazyObserver.unobserve(block);
    const frag = document.createDocumentFragment();
    for (const piece of src.split(LINE_END)) {
      const line = piece.trimStart();  // the newline before a line, never the message's own text
      if (line) frag.appendChild(prepare(lineFromSource(line)));
    }
    block.replaceChildren(frag);
    block.classList.remove("lazy");
    block.style.height = "";
    unskip(block);  // laid out for real once, so it remembers its true size
  }
  function buildLines(first, last) {
    for (const block of Array.from(pending.keys())) {
      if (+block.dataset.first <= last && +block.dataset.last >= first) build(block);
    }
  }
  async function buildAll() {
    // In slices, so that a search over a huge log does not freeze the tab.
    for (const block of Array.from(pending.keys())) {
      build(block);
      if (pending.size % 10 === 0) await new Promise((r) => setTimeout(r, 0));
    }
  }
  // ---- steps, groups and problems (the server's #triage index; live lines add to it) -------
  // Steps are the commands systemd ran, groups the ::group::/--- sections inside them.  A span
  // is folded by default unless it holds an error, is the failed (or a failed run's last) step,
  // is an expanded group, is where a running log is writing, or holds the #L line.  A folded
  // span's lines get the class "fo" (hidden), in built lines now and in blocks when built.
  const triageNav = document.getElementById("triage");
  const steps = [];   // {kind, n, first, last, start, end, errors, warnings, name, open}
  const groups = [];  // the same, with expanded
  const errorLines = [];
  const warningLines = [];
  const hitSet = new Set();  // line numbers matching the search
  let failedStep = 0;
  let causeLine = 0;  // the most likely cause (the server ranks it: journal_proxy/triage.py)
  let causeLast = 0;  // its last line (a traceback is one error with its lines)
  const summaryLines = [];  // the "why it failed" summary's lines, the cause's first
  function spanFrom(li, kind) {
    const d = li.dataset;
    return {
      kind: kind, n: +d[kind] || 0, first: +d.first || 0, last: +d.last || 0,
      start: d.start || "", end: d.end || "", errors: +d.errors || 0, warnings: +d.warnings || 0,
      name: li.textContent || "", expanded: d.expanded === "true", open: true,
    };
  }
  function numbers(text) {
    const out = [];
    for (const w of (text || "").split(" ")) if (/^\d+$/.test(w)) out.push(+w);
    return out;
  }
  (function readIndex() {
    if (!triageNav) return;
    for (const li of triageNav.querySelectorAll("ol.steps > li")) steps.push(spanFrom(li, "step"));
    for (const li of triageNav.querySelectorAll("ol.groups > li")) groups.push(spanFrom(li, "group"));
    errorLines.push(...numbers(triageNav.dataset.errorLines));
    warningLines.push(...numbers(triageNav.dataset.warningLines));
    failedStep = +triageNav.dataset.failedStep || 0;
    causeLine = +triageNav.dataset.cause || 0;
    causeLast = +triageNav.dataset.causeLast || causeLine;
    summaryLines.push(...numbers(triageNav.dataset.shown));
    if (causeLine && errorLines.indexOf(causeLine) < 0) {
      errorLines.push(causeLine);  // beyond the listed ones: still where e goes first
      errorLines.sort((a, b) => a - b);
    }
    const state = body.dataset.state;
    const lastStep = steps.length ? steps[steps.length - 1].n : 0;
    for (const s of steps) {
      s.open = steps.length < 2 || s.errors > 0 || s.n === failedStep ||
        ((state === "failed" || state === "running") && s.n === lastStep);
    }
    const lastGroup = groups.length ? groups[groups.length - 1] : null;
    for (const g of groups) {
      g.open = g.errors > 0 || g.expanded || (state === "running" && g === lastGroup);
    }
  })();
  function spanAt(list, n) {  // the span holding line n (spans are sorted and do not overlap)
    let lo = 0, hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].first > n) hi = mid - 1;
      else if (list[mid].last < n) lo = mid + 1;
      else return list[mid];
    }
    return null;
  }
  function folded(n) {
    const s = spanAt(steps, n);
    if (s && !s.open) return true;
    const g = spanAt(groups, n);
    return !!(g && !g.open && n !== g.first);
  }
  function shownLines(block) {
    let shown = 0;
    for (let n = +block.dataset.first; n <= +block.dataset.last; n++) if (!folded(n)) shown++;
    return shown;
  }
  // A block whose lines are all folded away (and that holds no step header) is not built: it
  // would show nothing, and a folded 20,000-line step would otherwise be built at once, since
  // its empty blocks are all "near the screen".
  function worthBuilding(block) { return block.dataset.headers === "1" || shownLines(block) > 0; }
  function sizeBlock(block) {
    const shown = shownLines(block);
    block.style.height = Math.round((shown + (block.dataset.headers === "1" ? 1.5 : 0)) * lineHeight) + "px";
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function spanSeconds(span) {
    const a = Date.parse(span.start), b = Date.parse(span.end);
    return isNaN(a) || isNaN(b) ? NaN : Math.max(0, (b - a) / 1000);
  }
  function shortDuration(sec) {
    if (isNaN(sec)) return "";
    if (sec < 60) return sec.toFixed(sec < 10 ? 1 : 0) + "s";
    const m = Math.floor(sec / 60);
    return m < 60 ? m + "m " + Math.floor(sec % 60) + "s" : Math.floor(m / 60) + "h " + (m % 60) + "m";
  }
  function spanMeta(span) {
    const parts = [plural(span.last - span.first + 1, "line")];
    const d = shortDuration(spanSeconds(span));
    if (d) parts.push(d);
    if (span.errors) parts.push(plural(span.errors, "error"));
    if (span.warnings) parts.push(plural(span.warnings, "warning"));
    return parts.join(" · ");
  }
  // A header's fold button (its state and words) and its line count and duration, drawn by the
  // stylesheet from data-meta, so the line's own text stays the title.
  function decorate(el, span) {
    if (!span) return el;
    let btn = el.firstElementChild;
    if (!btn || !btn.classList.contains("fold")) {
      btn = document.createElement("button");
      btn.type = "button";
      btn.className = "fold";
      el.insertBefore(btn, el.firstChild);
      const meta = document.createElement("span");
      meta.className = "sm";
      el.appendChild(meta);
    }
    const meta = el.lastElementChild;
    const words = spanMeta(span);
    meta.dataset.meta = words;
    btn.setAttribute("aria-expanded", String(span.open));
    btn.setAttribute("aria-label", (span.open ? "Fold " : "Unfold ") + span.kind + " " + span.name + ", " + words);
    el.classList.toggle("open", span.open);
    return el;
  }
  function stepHeader(n, first, name) {
    const el = document.createElement("div");
    el.className = "sh";
    el.id = "S" + n;
    el.dataset.step = String(n);
    el.dataset.first = String(first);
    el.textContent = name;
    return decorate(el, steps.find((s) => s.n === n));
  }
  function groupOf(el) { return spanAt(groups, lineNo(el)); }
  // Fold state, search hits and header decorations for an element just built.
  function prepare(el) {
    if (el.classList.contains("sh")) return el;
    const n = +el.dataset.n;
    if (folded(n)) el.classList.add("fo");
    if (hitSet.has(n)) el.classList.add("hit");
    if (el.classList.contains("gh")) decorate(el, spanAt(groups, n));
    return el;
  }
  function applyFold(span) {
    for (let n = span.first; n <= span.last; n++) {
      const el = document.getElementById("L" + n);
      if (el) el.classList.toggle("fo", folded(n));
    }
    const header = span.kind === "step" ? document.getElementById("S" + span.n) : document.getElementById("L" + span.first);
    if (header) decorate(header, span);
    // Built blocks off screen are not laid out (content-visibility) and keep the size they had
    // when last drawn, which folding changes: they are laid out for real until the next frames
    // have drawn them once.  Unbuilt blocks get the height of the lines they will show.
    for (const block of log.getElementsByClassName("chunk")) {
      const lines = block.getElementsByClassName("l");
      const first = pending.has(block) ? +block.dataset.first : lines.length ? +lines[0].dataset.n : 0;
      const last = pending.has(block) ? +block.dataset.last : lines.length ? +lines[lines.length - 1].dataset.n : -1;
      if (first > span.last || last < span.first) continue;
      if (pending.has(block)) {
        sizeBlock(block);
        lazyObserver.unobserve(block);  // observed again: a block already near the screen that
        lazyObserver.observe(block);    // now shows lines is reported (and built) at once
      } else unskip(block);
    }
  }
  const unskipped = new Set();
  function unskip(block) {
    block.style.contentVisibility = "visible";
    if (!unskipped.size) {
      requestAnimationFrame(() => requestAnimationFrame(() => {
        for (const b of unskipped) b.style.contentVisibility = "";
        unskipped.clear();
      }));
    }
    unskipped.add(block);
  }
  function setOpen(span, open) {
    if (!span || span.open === open) return;
    span.open = open;
    applyFold(span);
  }
  function reveal(n) {  // unfold whatever hides line n
    setOpen(spanAt(steps, n), true);
    const g = spanAt(groups, n);
    if (g && n !== g.first) setOpen(g, true);
  }
  const lazyObserver = new IntersectionObserver(function (seen) {
    for (const e of seen) if (e.isIntersecting && worthBuilding(e.target)) build(e.target);
  }, { rootMargin: "1500px 0px" });
  (function placeBlocks() {
    const firstChunk = log.querySelector("div.chunk");
    const shown = firstChunk ? firstChunk.getElementsByClassName("l").length : 0;
    if (shown) lineHeight = firstChunk.getBoundingClientRect().height / shown || lineHeight;
    for (const ns of Array.from(log.querySelectorAll("noscript.chunk"))) {
      const src = ns.textContent || "";
      // Line numbers run on within a block, and log text cannot hold "<div" (its "<" is
      // escaped), so the first and last line openings give the block's range.
      const first = parseInt(src.slice(src.indexOf(LINE_START) + LINE_START.length), 10) || 0;
      const last = parseInt(src.slice(src.lastIndexOf(LINE_START) + LINE_START.length), 10) || 0;
      const block = document.createElement("div");
      block.className = "chunk lazy";
      block.dataset.first = String(first);
      block.dataset.last = String(last);
      if (src.indexOf('<div class="sh"') >= 0) block.dataset.headers = "1";
      pending.set(block, src);
      sizeBlock(block);
      ns.replaceWith(block);
      lazyObserver.observe(block);
    }
  })();
  (function countExisting() {
    const all = lines();
    if (all.length) lastLine = lineNo(all[all.length - 1]);
    const blocks = log.getElementsByClassName("chunk");
    if (blocks.length) lastLine = Math.max(lastLine, +blocks[blocks.length - 1].dataset.last || 0);
    if (chunk) chunkLines = chunk.getElementsByClassName("l").length;
  })();

  (function prepareBuilt() {
    for (const el of Array.from(log.querySelectorAll(".chunk:not(.lazy) > .sh"))) {
      decorate(el, steps.find((s) => s.n === +el.dataset.step));
    }
    for (const el of Array.from(log.querySelectorAll(".chunk:not(.lazy) > .l"))) prepare(el);
  })();

  // A line wherever it is: built, or read from its block's source without building the block.
  function peekLine(n) {
    const el = document.getElementById("L" + n);
    if (el) return el;
    for (const [block, src] of pending) {
      if (+block.dataset.first > n || +block.dataset.last < n) continue;
      const i = src.indexOf(LINE_START + n + '"');
      if (i < 0) return null;
      const j = src.indexOf(LINE_END, i);
      return lineFromSource(j < 0 ? src.slice(i) : src.slice(i, j));
    }
    return null;
  }
  // Bring line n on screen (unfolded, its block built) and mark it.
  let marked = null;
  let pinnedUntil = 0;
  new ResizeObserver(function () {
    if (marked && performance.now() < pinnedUntil) marked.scrollIntoView({ block: "center" });
  }).observe(log);
  for (const type of ["wheel", "touchstart", "mousedown"]) window.addEventListener(type, () => { pinnedUntil = 0; }, { passive: true });
  function goToLine(n) {
    reveal(n);
    buildLines(n - 500, n + 500);
    const el = document.getElementById("L" + n);
    if (!el) return null;
    if (marked) marked.classList.remove("xm");
    marked = el;
    el.classList.add("xm");
    following = false;
    el.scrollIntoView({ block: "center" });
    // Blocks drawn for the first time near the line may still move it: it stays pinned on screen
    // while the log's size changes, for a moment or until the reader scrolls on their own.
    pinnedUntil = performance.now() + 1500;
    return el;
  }

  // ---- errors: counted in the header, next/previous with e / Shift+E ----------------------
  const countsEl = document.getElementById("counts");
  let errorPos = -1;
  function showCounts() {
    if (!countsEl) return;
    const e = triageNav ? +triageNav.dataset.errors || 0 : 0;
    const w = triageNav ? +triageNav.dataset.warnings || 0 : 0;
    countsEl.textContent = plural(e, "error") + ", " + plural(w, "warning");
    countsEl.classList.toggle("has-errors", e > 0);
    for (const id of ["prev-error", "next-error"]) {
      const b = document.getElementById(id);
      if (b) b.disabled = errorLines.length === 0;
    }
  }
  // From the top, e goes to the cause first (Shift+E to the error before it); then both walk
  // every error in log order.
  function nextError(dir) {
    if (!errorLines.length) return;
    const cause = causeLine ? errorLines.indexOf(causeLine) : -1;
    if (errorPos < 0 && cause >= 0) errorPos = dir > 0 ? cause : (cause - 1 + errorLines.length) % errorLines.length;
    else errorPos = errorPos < 0 && dir < 0 ? errorLines.length - 1 : (errorPos + dir + errorLines.length) % errorLines.length;
    goToLine(errorLines[errorPos]);
    if (countsEl) countsEl.textContent = "Error " + (errorPos + 1) + " of " + errorLines.length;
  }
  (function errorButtons() {
    if (!countsEl) return;
    const make = (id, label, text, dir) => {
      const b = document.createElement("button");
      b.type = "button";
      b.id = id;
      b.textContent = text;
      b.title = label;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", () => nextError(dir));
      return b;
    };
    countsEl.after(make("prev-error", "Previous error (Shift+E)", "↑", -1), make("next-error", "Next error (e)", "↓", 1));
    showCounts();
  })();

  // ---- a failed run opens with why: failed step, status, the cause, the errors before it ----
  function summaryLine(n, list) {
    const el = peekLine(n);
    if (!el || el.classList.contains("gm")) return;
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "#L" + n;
    a.textContent = "Line " + n;
    const text = document.createElement("span");
    text.className = el.classList.contains("e") ? "st e" : el.classList.contains("ec") ? "st ec" : "st";
    text.textContent = el.textContent.slice(0, 500);
    li.append(a, " ", text);
    list.appendChild(li);
  }
  // The server's choice (data-shown): the cause's own lines, then the errors just before it.
  function causeLists(box) {
    const cause = document.createElement("ol");
    cause.className = "cause";
    const others = document.createElement("ol");
    for (const n of summaryLines) {
      summaryLine(n, n >= causeLine && n <= causeLast ? cause : others);
    }
    box.appendChild(cause);
    if (others.childElementCount) {
      const p = document.createElement("p");
      p.textContent = "Errors before it:";
      box.append(p, others);
    }
  }
  function showSummary() {
    if (body.dataset.state !== "failed" || !triageNav) return;
    const box = document.createElement("section");
    box.id = "summary";
    box.setAttribute("aria-label", "Why it failed");
    const h = document.createElement("h2");
    const step = steps.find((s) => s.n === failedStep);
    h.textContent = (step ? "Failed in step " + step.n + ": " + step.name : "Failed") + " (" + statusEl.textContent + ")";
    box.appendChild(h);
    if (causeLine) {
      causeLists(box);
      log.before(box);
      return;
    }
    // No cause found: the errors there are, and the last lines before systemd's failure line.
    const errors = document.createElement("ol");
    for (const n of errorLines.slice(0, 8)) summaryLine(n, errors);
    box.appendChild(errors);
    let failLine = 0;
    for (const n of errorLines) {
      const el = peekLine(n);
      if (el && el.classList.contains("sys")) { failLine = n; break; }
    }
    if (failLine > 1) {
      const p = document.createElement("p");
      p.textContent = "Last lines before the failure:";
      const tail = document.createElement("ol");
      tail.className = "tail";
      const listed = new Set(errorLines.slice(0, 8));
      for (let n = Math.max(1, failLine - 5); n < failLine; n++) if (!listed.has(n)) summaryLine(n, tail);
      if (tail.childElementCount) box.append(p, tail);
    }
    log.before(box);
  }

  // ---- folding with the mouse and the keyboard ----------------------------------------------
  function spanOfHeader(el) {
    if (el.classList.contains("sh")) return steps.find((s) => s.n === +el.dataset.step) || null;
    if (el.classList.contains("gh")) return groupOf(el);
    return null;
  }
  log.addEventListener("click", function (ev) {
    const btn = ev.target.closest("button.fold");
    const header = btn ? btn.parentElement : ev.target.closest(".sh");
    if (!header) return;
    const span = spanOfHeader(header);
    if (span) setOpen(span, !span.open);
  });

  // ---- time zone -------------------------------------------------------------------------
  const pad = (n, w) => String(n).padStart(w || 2, "0");
  function formatTime(iso) {
    if (timeMode === "off") return "";
    const d = new Date(iso);
    if (isNaN(d)) return "";
    const ms = pad(d.getMilliseconds(), 3);
    if (timeMode === "relative") return relative(d.getTime());
    if (!localTime) return iso.slice(11, 23);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + ms;
  }
  function firstTime() {
    if (!isNaN(startMs)) return startMs;
    const first = lines()[0];
    return first ? Date.parse(first.dataset.t) : NaN;
  }
  // "+1:02.345" (or "+1:02:03.456" past an hour) after the start of the run.
  function relative(ms) {
    const t0 = firstTime();
    if (isNaN(t0)) return "";
    let d = Math.max(0, ms - t0);
    const h = Math.floor(d / 3600000); d -= h * 3600000;
    const m = Math.floor(d / 60000); d -= m * 60000;
    const sec = Math.floor(d / 1000);
    return "+" + (h ? h + ":" + pad(m) : String(m)) + ":" + pad(sec) + "." + pad(Math.floor(d - sec * 1000), 3);
  }
  function setLineTime(el) {
    const h = el.dataset.h || "";
    el.dataset.h = formatTime(el.dataset.t || "") + h.slice(h.indexOf(" "));
  }
  function applyTimeZone(relabelLines) {
    // The server writes UTC; rewriting 100,000 lines is only worth it when the view changes.
    if (relabelLines) for (const el of lines()) setLineTime(el);
    body.classList.toggle("times-off", timeMode === "off");
    const times = document.getElementById("times");
    times.textContent = { clock: "Time", relative: "+Time", off: "No time" }[timeMode];
    times.setAttribute("aria-label", "Timestamps: " + { clock: "clock time", relative: "since the start", off: "hidden" }[timeMode]);
    const tz = document.getElementById("tz");
    tz.textContent = localTime ? "Local" : "UTC";
    tz.setAttribute("aria-pressed", String(localTime));
    const started = document.getElementById("started");
    if (started && started.dateTime) {
      const d = new Date(started.dateTime);
      started.textContent = localTime ? d.toLocaleString() : started.dateTime.replace("T", " ").slice(0, 19) + " UTC";
    }
  }
  document.getElementById("tz").addEventListener("click", function () {
    localTime = !localTime;
    localStorage.setItem("jp-tz", localTime ? "local" : "utc");
    applyTimeZone(true);
  });
  document.getElementById("times").addEventListener("click", function () {
    timeMode = TIME_MODES[(TIME_MODES.indexOf(timeMode) + 1) % TIME_MODES.length];
    localStorage.setItem("jp-times", timeMode);
    applyTimeZone(true);
  });

  // ---- wrap ----------------------------------------------------------------------------
  const wrapBtn = document.getElementById("wrap");
  function setWrap(wrap) {
    body.classList.toggle("nowrap", !wrap);
    wrapBtn.setAttribute("aria-pressed", String(wrap));
    windowWidth();
  }
  // The header keeps the window's width while the page scrolls sideways (style.css, --vw).
  function windowWidth() { document.documentElement.style.setProperty("--vw", document.documentElement.clientWidth + "px"); }
  window.addEventListener("resize", windowWidth);
  setWrap(localStorage.getItem("jp-wrap") !== "off");
  wrapBtn.addEventListener("click", function () {
    const wrap = body.classList.contains("nowrap");
    localStorage.setItem("jp-wrap", wrap ? "on" : "off");
    setWrap(wrap);
  });

  // ---- anchors: #L42 and #L10-L20 ---------------------------------------------------------
  const copyBtn = document.getElementById("copy");
  copyBtn.addEventListener("click", function () {
    navigator.clipboard.writeText(location.href).then(
      () => { copyBtn.textContent = "Copied"; },
      () => { copyBtn.textContent = "Copy failed"; });
  });
  function clearHighlight() {
    for (const el of Array.from(log.getElementsByClassName("hl"))) el.classList.remove("hl");
    copyBtn.disabled = true;
    copyBtn.textContent = "Copy link to line";
  }
  function parseHash() {
    const m = /^#L(\d+)(?:-L(\d+))?$/.exec(location.hash);
    if (!m) return null;
    let a = parseInt(m[1], 10), b = m[2] ? parseInt(m[2], 10) : a;
    if (b < a) [a, b] = [b, a];
    return [a, b];
  }
  function highlight(scroll) {
    clearHighlight();
    const range = parseHash();
    if (!range) return;
    // Also the blocks either side, so no block near the line changes height after the jump.
    reveal(range[0]);
    buildLines(range[0] - 500, range[1] + 500);
    const first = document.getElementById("L" + range[0]);
    if (!first) return;
    for (let n = range[0]; n <= range[1] && n - range[0] < 100000; n++) {
      const el = document.getElementById("L" + n);
      if (el) el.classList.add("hl");
    }
    copyBtn.disabled = false;
    if (range[1] > range[0]) copyBtn.textContent = "Copy link to lines";
    if (scroll) first.scrollIntoView({ block: "start" });  // lands below the header: see .l in style.css
  }
  // The line number is drawn by the stylesheet in the line's left gutter: a click there
  // selects the line (shift-click: a range) and puts it in the URL.
  let anchorLine = null;
  function selectLine(n, extend) {
    const ranged = extend && anchorLine;
    const hash = ranged ? "#L" + Math.min(anchorLine, n) + "-L" + Math.max(anchorLine, n) : "#L" + n;
    if (!ranged) anchorLine = n;
    history.replaceState(null, "", hash);
    highlight(false);
    return ranged;
  }
  // Without a Shift key (a phone): "Range" makes the next tap on a line number the other end of
  // the range, from the line already selected (or from the first line tapped after it).
  const rangeBtn = document.getElementById("range");
  let rangeMode = false;
  function setRangeMode(on) {
    rangeMode = on;
    rangeBtn.setAttribute("aria-pressed", String(on));
    if (on) {
      const sel = parseHash();
      anchorLine = sel && sel[0] === sel[1] ? sel[0] : null;
    }
  }
  rangeBtn.addEventListener("click", () => setRangeMode(!rangeMode));
  log.addEventListener("click", function (ev) {
    if (ev.target.closest("a")) return;  // a link in the log is followed, not a line selection
    const line = ev.target.closest(".l");
    if (!line) return;
    const gutter = parseFloat(getComputedStyle(line, "::before").width) || 60;
    if (ev.clientX - line.getBoundingClientRect().left > gutter + 4) return;
    if (selectLine(lineNo(line), ev.shiftKey || rangeMode) && rangeMode) setRangeMode(false);
  });

  // ---- keyboard: the log is one tab stop; arrows move a line cursor, Enter links to it ----
  let cursor = null;
  function setCursor(el) {
    if (cursor) cursor.classList.remove("cur");
    cursor = el;
    if (el) {
      el.classList.add("cur");
      el.scrollIntoView({ block: "nearest" });
    }
  }
  function shown(el) {
    if (el.classList.contains("fo") || el.classList.contains("gm")) return false;
    return !body.classList.contains("filtering") || el.classList.contains("hit");
  }
  function neighbour(el, dir) {
    let next = dir > 0 ? el.nextElementSibling : el.previousElementSibling;
    let block = el.parentElement;
    for (;;) {
      while (next && !(next.classList.contains("l") && shown(next))) next = dir > 0 ? next.nextElementSibling : next.previousElementSibling;
      if (next) return next;
      do block = dir > 0 ? block.nextElementSibling : block.previousElementSibling;
      while (block && !block.classList.contains("chunk"));
      if (!block) return null;
      build(block);  // nothing to do once built
      next = dir > 0 ? block.firstElementChild : block.lastElementChild;
    }
  }
  function firstLineOnScreen() {
    const top = Math.max(0, document.querySelector(".top").getBoundingClientRect().bottom);
    const hit = document.elementFromPoint(log.getBoundingClientRect().left + 40, top + 4);
    const line = hit && hit.closest(".l");
    if (line && shown(line)) return line;
    for (const el of lines()) if (el.getBoundingClientRect().bottom > top && shown(el)) return el;
    return null;
  }
  log.addEventListener("keydown", function (ev) {
    if (ev.target !== log) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const next = cursor && cursor.isConnected ? neighbour(cursor, ev.key === "ArrowDown" ? 1 : -1) : firstLineOnScreen();
      if (next) setCursor(next);
    } else if ((ev.key === "ArrowLeft" || ev.key === "ArrowRight") && cursor && cursor.classList.contains("gh")) {
      ev.preventDefault();  // fold or unfold the group whose header the cursor is on
      setOpen(groupOf(cursor), ev.key === "ArrowRight");
    } else if (ev.key === "Enter" && cursor) {
      ev.preventDefault();
      selectLine(lineNo(cursor), ev.shiftKey);
    } else if (ev.key === "Escape") {
      setCursor(null);
    }
  });
  log.addEventListener("blur", () => setCursor(null));
  window.addEventListener("hashchange", () => highlight(true));

  // ---- search: every line, built or not; Enter / Shift+Enter walk the matches --------------
  // The text of every line is read once (from the elements built, and from the blocks' source
  // without building them) into an index; a search runs over it in slices of a few
  // milliseconds, so even a slow regular expression never freezes the tab: it is stopped after
  // SEARCH_BUDGET_MS with a message.  Patterns that can backtrack catastrophically (a repeated
  // group that itself repeats or alternates, back-references) and overlong ones are refused.
  const search = document.getElementById("search");
  const matches = document.getElementById("matches");
  const filter = document.getElementById("filter");
  const regexBox = document.getElementById("regex");
  const caseBox = document.getElementById("case");
  const MAX_PATTERN = 256;
  const MAX_TEXT = 10000;  // characters of one line a search looks at
  const SEARCH_BUDGET_MS = 3000;
  let searchTimer = 0;
  let generation = 0;
  let indexN = null, indexT = null, indexLower = null;
  let found = [];  // line numbers of the matches, in order
  let foundPos = -1;
  let matcher = null;
  function textOfSource(piece) {
    const m = LINE_RE.exec(piece);
    return m ? [+m[1], unescapeText(m[7].replace(TAG_RE, ""))] : null;
  }
  async function buildIndex() {
    if (indexN) return;
    const ns = [], ts = [];
    let slice = performance.now();
    for (const block of Array.from(log.getElementsByClassName("chunk"))) {
      const src = pending.get(block);
      if (src === undefined) {
        for (const el of block.getElementsByClassName("l")) { ns.push(+el.dataset.n); ts.push(el.textContent); }
      } else {
        for (const piece of src.split(LINE_END)) {
          const got = textOfSource(piece.trimStart());
          if (got) { ns.push(got[0]); ts.push(got[1]); }
        }
      }
      if (performance.now() - slice > 12) { await new Promise((r) => setTimeout(r, 0)); slice = performance.now(); }
    }
    if (!indexN) { indexN = ns; indexT = ts; }
  }
  function indexLine(el) {
    if (!indexN) return;
    indexN.push(+el.dataset.n);
    indexT.push(el.textContent);
    if (indexLower) indexLower.push(el.textContent.toLowerCase());
  }
  // Nested quantifiers such as (a+)+, (a|aa)*, ((x*)y){2,} and back-references: refused.
  // Groups are read innermost first; a group that repeats and holds a repetition or an
  // alternation is refused, else it stands for one character (repeated or not) from then on.
  const INNER_GROUP = /\(([^()]*)\)(\s*(?:[+*?]|\{\d*(?:,\d*)?\})?)/;
  function catastrophic(q) {
    if (/\\[1-9]|\\k</.test(q)) return true;
    let s = q.replace(/\\./g, "x").replace(/\[(?:[^\]\\]|\\.)*\]/g, "x").replace(/\(\?<?[:=!]/g, "(");
    for (let i = 0; i < 500; i++) {
      const m = INNER_GROUP.exec(s);
      if (!m) return false;
      const holds = /[+*|}]/.test(m[1]);
      const repeats = /[+*]|\{\d*,|\{\d*[2-9]\d*\}|\{\d{2,}\}/.test(m[2]);
      if (holds && repeats) return true;
      s = s.slice(0, m.index) + (holds || repeats ? "x+" : "x") + s.slice(m.index + m[0].length);
    }
    return true;
  }
  function makeMatcher(q) {
    const useCase = caseBox && caseBox.checked;
    if (!(regexBox && regexBox.checked)) {
      const needle = useCase ? q : q.toLowerCase();
      return { lower: !useCase, test: (t) => t.includes(needle) };
    }
    if (q.length > MAX_PATTERN) return { error: "Pattern too long (over " + MAX_PATTERN + " characters)" };
    if (catastrophic(q)) return { error: "Pattern refused: nested repetition or a back-reference can take for ever" };
    let rx;
    try { rx = new RegExp(q, useCase ? "" : "i"); } catch (e) { return { error: "Not a valid regular expression" }; }
    if (rx.test("")) return { error: "The pattern matches empty text" };
    return { lower: false, test: (t) => rx.test(t.length > MAX_TEXT ? t.slice(0, MAX_TEXT) : t) };
  }
  function setHits(list) {
    for (const el of Array.from(log.getElementsByClassName("hit"))) el.classList.remove("hit");
    hitSet.clear();
    for (const n of list) {
      hitSet.add(n);
      const el = document.getElementById("L" + n);
      if (el) el.classList.add("hit");
    }
  }
  function showPosition() {
    if (!found.length) { matches.textContent = "No matches"; return; }
    matches.textContent = foundPos < 0 ? found.length + (found.length === 1 ? " match" : " matches") : (foundPos + 1) + " of " + found.length;
  }
  function goToMatch(dir) {
    if (!found.length) return;
    foundPos = foundPos < 0 ? (dir > 0 ? 0 : found.length - 1) : (foundPos + dir + found.length) % found.length;
    goToLine(found[foundPos]);
    showPosition();
  }
  async function runSearch() {
    const gen = ++generation;
    const q = search.value.trim() === "" ? "" : search.value;
    found = []; foundPos = -1; matcher = null;
    body.classList.remove("filtering");
    if (!q) { setHits([]); matches.textContent = ""; return; }
    const m = makeMatcher(q);
    if (m.error) { setHits([]); matches.textContent = m.error; return; }
    matches.textContent = "Searching…";
    await buildIndex();
    if (gen !== generation) return;
    if (m.lower && !indexLower) indexLower = indexT.map((t) => t.toLowerCase());
    const texts = m.lower ? indexLower : indexT;
    const hits = [];
    const began = performance.now();
    let slice = began;
    for (let i = 0; i < texts.length; i++) {
      if (m.test(texts[i])) hits.push(indexN[i]);
      if ((i & 255) === 0 && performance.now() - slice > 12) {
        if (performance.now() - began > SEARCH_BUDGET_MS) {
          matches.textContent = "Stopped: the pattern is too slow";
          return;
        }
        await new Promise((r) => setTimeout(r, 0));
        if (gen !== generation) return;
        slice = performance.now();
      }
    }
    matcher = m;
    found = hits;
    setHits(hits);
    if (filter.checked && hits.length) {
      await buildAll();
      if (gen !== generation) return;
      for (const n of hits) reveal(n);
      body.classList.add("filtering");
    }
    if (hits.length) goToMatch(1);
    else showPosition();
  }
  function searchSoon() { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 150); }
  search.addEventListener("input", searchSoon);
  filter.addEventListener("change", runSearch);
  if (regexBox) regexBox.addEventListener("change", runSearch);
  if (caseBox) caseBox.addEventListener("change", runSearch);
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      ev.preventDefault();
      if (searchTimer && matcher === null) { clearTimeout(searchTimer); runSearch(); return; }
      goToMatch(ev.shiftKey ? -1 : 1);
    } else if (ev.key === "Escape") {
      search.blur();
      log.focus({ preventScroll: true });
    }
  });
  function matchLive(el) {
    indexLine(el);
    if (!matcher) return;
    const t = el.textContent;
    if (matcher.test(matcher.lower ? t.toLowerCase() : t)) {
      found.push(+el.dataset.n);
      hitSet.add(+el.dataset.n);
      el.classList.add("hit");
      showPosition();
    }
  }

  // ---- page keys: / and the first Ctrl+F search, e / Shift+E next and previous error -------
  function typing(t) { return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable); }
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && (ev.key === "f" || ev.key === "F")) {
      if (document.activeElement === search) return;  // the second one: the browser's own find
      ev.preventDefault();
      search.focus();
      search.select();
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    if (ev.key === "/") {
      ev.preventDefault();
      search.focus();
      search.select();
    } else if (ev.key === "e" || ev.key === "E") {
      ev.preventDefault();
      nextError(ev.shiftKey ? -1 : 1);
    }
  });

  // ---- following the tail -----------------------------------------------------------------
  // A running log opens at its last line and keeps the newest line on screen, like `tail -f`.
  // Scrolling up pauses that; new lines then only count up in the "N new lines" button, which
  // (like the End key, or scrolling back to the bottom) resumes following.
  const running = body.dataset.state === "running";
  let live = running;  // lines may still arrive: false once the stream has really ended
  const newBtn = document.getElementById("newlines");
  let following = running && !parseHash();
  let unseen = 0;
  let lastY = window.scrollY;
  const root = document.documentElement;
  function atBottom() { return window.innerHeight + window.scrollY >= root.scrollHeight - 24; }
  function buildTail() {
    // The last block must have its real height before the page can be scrolled to its end.
    const blocks = log.getElementsByClassName("chunk");
    if (blocks.length) build(blocks[blocks.length - 1]);
  }
  function toBottom() {
    buildTail();
    window.scrollTo(window.scrollX, root.scrollHeight);
    lastY = window.scrollY;
  }
  function showUnseen() {
    newBtn.hidden = unseen === 0;
    newBtn.textContent = "↓ " + unseen + (unseen === 1 ? " new line" : " new lines");
  }
  function resume() {
    following = live;
    unseen = 0;
    showUnseen();
    toBottom();
  }
  newBtn.addEventListener("click", resume);
  window.addEventListener("scroll", function () {
    const y = window.scrollY;
    if (atBottom()) {
      if (unseen) { unseen = 0; showUnseen(); }
      if (live) following = true;
    } else if (y < lastY - 1) {
      following = false;
    }
    lastY = y;
  }, { passive: true });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "End" || ev.ctrlKey || ev.altKey || ev.metaKey) return;
    const t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    ev.preventDefault();
    resume();
  });
  // Blocks built near the screen, fonts and window size change the page's height: stay at
  // the bottom while following.
  new ResizeObserver(function () { if (following) toBottom(); }).observe(log);

  // ---- live lines (fetch + SSE parsing, so Last-Event-ID is sent from the start) -----------
  // The same facts as the server's markup: step_name starts a step (a header before the line),
  // marker makes a group header or a hidden end/reopen marker, level marks an error or warning,
  // annotation's file/line/col/title are shown before the message (all set as text).
  function liveClasses(e) {
    let cls = e.system === true ? " sys" : "";
    if (e.level === "error") cls += e.part === true ? " ec" : " e";
    else if (e.level === "warning") cls += " w";
    const mk = e.marker && typeof e.marker === "object" ? e.marker : null;
    if (mk && mk.kind === "start") cls += " gh" + (mk.style === "expanded" ? " gx" : mk.style === "quiet" ? " gq" : "");
    else if (mk) cls += " gm";
    return cls;
  }
  function annotationHead(div, a) {
    if (!a || typeof a !== "object") return;
    const str = (k) => (typeof a[k] === "string" ? a[k] : "");
    let where = str("file");
    if (where) {
      for (const k of ["line", "col"]) { if (!str(k)) break; where += ":" + str(k); }
      div.append(textPart("al", where, null), " ");
    }
    if (str("title")) div.append(textPart("at", str("title"), null), " ");
  }
  function makeLine(e) {
    const div = document.createElement("div");
    const prio = Number.isInteger(e.priority) && e.priority >= 0 && e.priority <= 7 ? e.priority : 6;
    div.className = "l p" + prio + liveClasses(e);
    div.id = "L" + e.line;
    div.dataset.n = String(e.line);
    if (e.marker && Number.isInteger(e.group)) div.dataset.group = String(e.group);
    div.dataset.t = String(e.time);
    div.dataset.h = formatTime(String(e.time)) + " " + String(e.identifier).replace(/\r/g, "");
    if (e.level && !e.marker) annotationHead(div, e.annotation);
    const spans = Array.isArray(e.spans) ? e.spans : [["", String(e.message)]];
    const runs = [];
    for (const sp of spans) if (Array.isArray(sp) && typeof sp[1] === "string") runs.push([typeof sp[0] === "string" ? sp[0] : "", sp[1]]);
    for (const [cls, text, href] of withLinks(runs)) div.appendChild(textPart(cls, text, href));
    return div;
  }
  function liveSpan(kind, n, e, name) {
    return { kind: kind, n: n, first: e.line, last: e.line, start: String(e.time), end: String(e.time),
      errors: 0, warnings: 0, name: name, expanded: true, open: true };
  }
  // Steps, groups and counts follow the live lines; returns the step header to insert, if any.
  function trackLive(e) {
    let header = null;
    const step = Number.isInteger(e.step) ? e.step : 0;
    const prev = steps[steps.length - 1];
    if (typeof e.step_name === "string" && step) {
      if (prev) prev.end = String(e.time);
      steps.push(liveSpan("step", step, e, e.step_name));
      header = stepHeader(step, e.line, e.step_name);
    } else if (prev && prev.n === step) {
      prev.last = e.line; prev.end = String(e.time);
    }
    const mk = e.marker && typeof e.marker === "object" ? e.marker : null;
    const lastGroup = groups[groups.length - 1];
    const isStart = mk && mk.kind === "start" && Number.isInteger(e.group);
    if (lastGroup && !isStart && lastGroup.n === e.group) {
      lastGroup.last = e.line; lastGroup.end = String(e.time);
    } else if (lastGroup && !lastGroup.closed) {
      lastGroup.end = String(e.time);  // a span lasts until the first line after it
      lastGroup.closed = true;
    }
    if (isStart) groups.push(liveSpan("group", e.group, e, typeof mk.title === "string" ? mk.title : ""));
    if ((e.level === "error" && e.part !== true) || e.level === "warning") {
      const key = e.level === "error" ? "errors" : "warnings";
      (e.level === "error" ? errorLines : warningLines).push(e.line);
      if (triageNav) triageNav.dataset[key] = String((+triageNav.dataset[key] || 0) + 1);
      const s = steps[steps.length - 1], g = spanAt(groups, e.line);
      if (s && s.n === step) s[key]++;
      if (g) g[key]++;
      showCounts();
    }
    return header;
  }
  function refreshHeaders() {
    const s = steps[steps.length - 1], g = groups[groups.length - 1];
    const sh = s && document.getElementById("S" + s.n);
    if (sh) decorate(sh, s);
    const gh = g && document.getElementById("L" + g.first);
    if (gh) decorate(gh, g);
  }
  let bottomFrame = 0;
  function appendEntry(e) {
    if (!Number.isInteger(e.line) || e.line <= lastLine) return;  // never a duplicate
    if (!chunk || chunkLines >= 500 || chunk.classList.contains("lazy")) {
      chunk = document.createElement("div"); chunk.className = "chunk"; log.appendChild(chunk); chunkLines = 0;
    }
    const header = trackLive(e);
    if (header) chunk.appendChild(header);
    const el = prepare(makeLine(e));
    chunk.appendChild(el);
    chunkLines++;
    lastLine = e.line;
    refreshHeaders();
    matchLive(el);
    for (const note of log.querySelectorAll(":scope > .note")) note.remove();
    if (following) {
      // Once per frame, not per line: a burst of lines (a reconnect's backlog) costs one layout.
      if (!bottomFrame) bottomFrame = requestAnimationFrame(() => { bottomFrame = 0; if (following) toBottom(); });
    } else {
      unseen++;
      showUnseen();
    }
  }

  // ---- status: badge, elapsed time, tab title and icon ------------------------------------
  const icon = document.getElementById("icon");
  const durationEl = document.getElementById("duration");
  const unitName = (document.querySelector("h1.unit") || {}).textContent || "log";
  let skewMs = 0;  // server clock minus ours, from the Date header of the live stream
  let ticker = 0;
  function formatElapsed(sec) {
    sec = Math.max(0, Math.floor(sec));
    const h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = sec % 60;
    if (h) return h + "h " + pad(m) + "m " + pad(s) + "s";
    return m ? m + "m " + pad(s) + "s" : s + "s";
  }
  function tick() {
    if (!isNaN(startMs)) durationEl.textContent = formatElapsed((Date.now() + skewMs - startMs) / 1000);
  }
  function setStatus(s) {
    if (!s || typeof s.state !== "string" || !/^[a-z-]+$/.test(s.state)) return;
    body.dataset.state = s.state;
    statusEl.className = "badge s-" + s.state;
    statusEl.textContent = String(s.description);
    // A background tab shows the outcome in its title and icon.
    const mark = s.state === "succeeded" ? "✓ " : s.state === "failed" ? "✗ " : "";
    document.title = mark + (s.unit || unitName) + " · " + s.description;
    if (icon && icon.dataset[s.state]) icon.href = icon.dataset[s.state];
    if (s.state !== "running") {
      clearInterval(ticker);
      ticker = 0;
      if (typeof s.duration === "number") {
        durationEl.textContent = s.duration >= 60 ? Math.floor(s.duration / 60) + "m " + (s.duration % 60).toFixed(1).padStart(4, "0") + "s" : s.duration.toFixed(1) + "s";
      }
    } else if (!ticker) {
      tick();
      ticker = setInterval(tick, 1000);
    }
  }

  // ---- the live stream ---------------------------------------------------------------------
  // Only a real end ends a live page: the run finished, or the server gave up on it for good
  // (idle, max-duration, revoked...).  A server shutting down or restarting, a journal server
  // that stopped answering, a reader dropped for being slow, or a cut connection: the page
  // reconnects, with backoff, from its last line (Last-Event-ID), so nothing is lost or repeated.
  const RECONNECT = new Set(["shutdown", "upstream", "too-slow", "no-viewers"]);
  let stopped = false;
  let retryNow = false;
  function handleEvent(type, data) {
    let obj;
    try { obj = JSON.parse(data); } catch (e) { return; }
    if (!obj || typeof obj !== "object") return;
    if (type === "status") setStatus(obj);
    else if (type === "end") {
      setStatus(obj.status);
      if (RECONNECT.has(obj.reason)) {
        retryNow = true;
        return;
      }
      stopped = true;
      live = following = false;
      liveEl.textContent = obj.reason === "finished" ? "Finished." : "Live updates stopped: " + String(obj.reason) + ".";
    } else if (type === "message") appendEntry(obj);
  }
  async function follow() {
    let failures = 0;
    while (!stopped) {
      liveEl.textContent = failures ? "Reconnecting…" : "Live";
      retryNow = false;
      try {
        const resp = await fetch(location.pathname + location.search, {
          headers: { "Accept": "text/event-stream", "Last-Event-ID": String(lastLine) },
          cache: "no-store", credentials: "same-origin",
        });
        if (resp.status === 403 || resp.status === 404 || resp.status === 410) {
          stopped = true;
          live = following = false;
          liveEl.textContent = resp.status === 403
            ? "Live updates stopped: this link is not accepted (403). Reload with a valid link."
            : "Live updates stopped: this log is no longer available.";
          break;
        }
        if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
        const date = Date.parse(resp.headers.get("Date") || "");
        if (!isNaN(date) && Math.abs(date - Date.now()) > 2000) skewMs = date - Date.now();
        failures = 0;
        liveEl.textContent = "Live";
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "", type = "message", data = [];
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            let line = buf.slice(0, nl); buf = buf.slice(nl + 1);
            if (line.endsWith("\r")) line = line.slice(0, -1);
            if (line === "") {
              if (data.length) handleEvent(type, data.join("\n"));
              type = "message"; data = [];
            } else if (!line.startsWith(":")) {
              const c = line.indexOf(":");
              const field = c < 0 ? line : line.slice(0, c);
              const val = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
              if (field === "event") type = val;
              else if (field === "data") data.push(val);
            }
          }
          if (stopped) { reader.cancel(); break; }
        }
      } catch (e) {
        // a refused or cut connection: try again below
      }
      if (stopped) break;
      liveEl.textContent = "Reconnecting…";
      // 0.5 s, 1 s, 2 s ... 15 s, each with up to 30% jitter, so that the viewers of a restarted
      // server do not all come back at the same instant.  A stream the server ended on purpose
      // (shutdown) is retried after the shortest wait: the new server is usually up by then.
      const base = retryNow ? 500 : Math.min(500 * 2 ** failures, 15000);
      failures++;
      await new Promise((r) => setTimeout(r, base * (1 + 0.3 * Math.random())));
    }
  }

  applyTimeZone(localTime || timeMode !== "clock");
  showSummary();
  highlight(true);
  if (running) {
    setStatus({ state: "running", description: statusEl.textContent, unit: unitName });
    if (following) toBottom();
    follow();
  }
})();
