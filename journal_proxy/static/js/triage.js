// Steps, groups and problems (the server's #triage index; live lines add to it).
// Steps are the commands systemd ran, groups the ::group::/--- sections inside them.  A span is
// folded by default unless it holds an error, is the failed (or a failed run's last) step, is an
// expanded group, is where a running log is writing, or holds the #L line.  A folded span's lines
// get the class "fo" (hidden), in built lines now and in chunks when built.  Folding tells the
// chunks by a "jp:fold" event on the log; a new error or warning by "jp:problems".
import { plural, shortDuration, spanSeconds } from "./durations.js";
import { lineNo } from "./chunks.js";

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
// The span holding line n (spans are sorted and do not overlap).
export function spanAt(list, n) {
  let lo = 0, hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].first > n) hi = mid - 1;
    else if (list[mid].last < n) lo = mid + 1;
    else return list[mid];
  }
  return null;
}
function spanMeta(span) {
  const parts = [plural(span.last - span.first + 1, "line")];
  const d = shortDuration(spanSeconds(span.start, span.end));
  if (d) parts.push(d);
  if (span.errors) parts.push(plural(span.errors, "error"));
  if (span.warnings) parts.push(plural(span.warnings, "warning"));
  return parts.join(" · ");
}
function liveSpan(kind, n, e, name) {
  return { kind: kind, n: n, first: e.line, last: e.line, start: String(e.time), end: String(e.time),
    errors: 0, warnings: 0, name: name, expanded: true, open: true };
}

export class Triage {
  constructor(log, nav, state) {
    this.log = log;
    this.nav = nav;
    this.steps = [];   // {kind, n, first, last, start, end, errors, warnings, name, open}
    this.groups = [];  // the same, with expanded
    this.errorLines = [];
    this.warningLines = [];
    this.failedStep = 0;
    this.causeLine = 0;  // the most likely cause (the server ranks it: triage/combined.py)
    this.causeLast = 0;  // its last line (a traceback is one error with its lines)
    this.summaryLines = [];  // the "why it failed" summary's lines, the cause's first
    if (nav) this.readIndex(nav, state);
    log.addEventListener("click", (ev) => this.onClick(ev));
  }

  readIndex(nav, state) {
    for (const li of nav.querySelectorAll("ol.steps > li")) this.steps.push(spanFrom(li, "step"));
    for (const li of nav.querySelectorAll("ol.groups > li")) this.groups.push(spanFrom(li, "group"));
    this.errorLines.push(...numbers(nav.dataset.errorLines));
    this.warningLines.push(...numbers(nav.dataset.warningLines));
    this.failedStep = +nav.dataset.failedStep || 0;
    this.causeLine = +nav.dataset.cause || 0;
    this.causeLast = +nav.dataset.causeLast || this.causeLine;
    this.summaryLines.push(...numbers(nav.dataset.shown));
    if (this.causeLine && this.errorLines.indexOf(this.causeLine) < 0) {
      this.errorLines.push(this.causeLine);  // beyond the listed ones: still where e goes first
      this.errorLines.sort((a, b) => a - b);
    }
    const steps = this.steps, groups = this.groups;
    const lastStep = steps.length ? steps[steps.length - 1].n : 0;
    for (const s of steps) {
      s.open = steps.length < 2 || s.errors > 0 || s.n === this.failedStep ||
        ((state === "failed" || state === "running") && s.n === lastStep);
    }
    const lastGroup = groups.length ? groups[groups.length - 1] : null;
    for (const g of groups) g.open = g.errors > 0 || g.expanded || (state === "running" && g === lastGroup);
  }

  count(key) { return this.nav ? +this.nav.dataset[key] || 0 : 0; }
  step(n) { return this.steps.find((s) => s.n === n); }
  groupOf(el) { return spanAt(this.groups, lineNo(el)); }

  folded(n) {
    const s = spanAt(this.steps, n);
    if (s && !s.open) return true;
    const g = spanAt(this.groups, n);
    return !!(g && !g.open && n !== g.first);
  }

  // A header's fold button (its state and words) and its line count and duration, drawn by the
  // stylesheet from data-meta, so the line's own text stays the title.
  decorate(el, span) {
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
    const words = spanMeta(span);
    el.lastElementChild.dataset.meta = words;
    btn.setAttribute("aria-expanded", String(span.open));
    btn.setAttribute("aria-label", (span.open ? "Fold " : "Unfold ") + span.kind + " " + span.name + ", " + words);
    return el;
  }

  stepHeader(n, first, name) {
    const el = document.createElement("div");
    el.className = "sh";
    el.id = "S" + n;
    el.dataset.step = String(n);
    el.dataset.first = String(first);
    el.textContent = name;
    return this.decorate(el, this.step(n));
  }

  // Fold state and header decorations for a line just built.
  prepare(el) {
    if (el.classList.contains("sh")) return el;
    const n = +el.dataset.n;
    if (this.folded(n)) el.classList.add("fo");
    if (el.classList.contains("gh")) this.decorate(el, spanAt(this.groups, n));
    return el;
  }

  prepareBuilt() {
    for (const el of Array.from(this.log.querySelectorAll(".chunk:not(.lazy) > .sh"))) this.decorate(el, this.step(+el.dataset.step));
    for (const el of Array.from(this.log.querySelectorAll(".chunk:not(.lazy) > .l"))) this.prepare(el);
  }

  applyFold(span) {
    for (let n = span.first; n <= span.last; n++) {
      const el = document.getElementById("L" + n);
      if (el) el.classList.toggle("fo", this.folded(n));
    }
    const header = document.getElementById(span.kind === "step" ? "S" + span.n : "L" + span.first);
    if (header) this.decorate(header, span);
    this.log.dispatchEvent(new CustomEvent("jp:fold", { detail: { first: span.first, last: span.last } }));
  }

  setOpen(span, open) {
    if (!span || span.open === open) return;
    span.open = open;
    this.applyFold(span);
  }

  reveal(n) {  // unfold whatever hides line n
    this.setOpen(spanAt(this.steps, n), true);
    const g = spanAt(this.groups, n);
    if (g && n !== g.first) this.setOpen(g, true);
  }

  spanOfHeader(el) {
    if (el.classList.contains("sh")) return this.step(+el.dataset.step) || null;
    if (el.classList.contains("gh")) return this.groupOf(el);
    return null;
  }

  // Folding with the mouse: a header's fold button, or anywhere on a step header.
  onClick(ev) {
    const btn = ev.target.closest("button.fold");
    const header = btn ? btn.parentElement : ev.target.closest(".sh");
    if (!header) return;
    const span = this.spanOfHeader(header);
    if (span) this.setOpen(span, !span.open);
  }

  // Steps follow the live lines; returns the step header to insert, if any.
  trackStep(e, step) {
    const prev = this.steps[this.steps.length - 1];
    if (typeof e.step_name === "string" && step) {
      if (prev) prev.end = String(e.time);
      this.steps.push(liveSpan("step", step, e, e.step_name));
      return this.stepHeader(step, e.line, e.step_name);
    }
    if (prev && prev.n === step) { prev.last = e.line; prev.end = String(e.time); }
    return null;
  }

  trackGroup(e) {
    const mk = e.marker && typeof e.marker === "object" ? e.marker : null;
    const lastGroup = this.groups[this.groups.length - 1];
    const isStart = mk && mk.kind === "start" && Number.isInteger(e.group);
    if (lastGroup && !isStart && lastGroup.n === e.group) {
      lastGroup.last = e.line; lastGroup.end = String(e.time);
    } else if (lastGroup && !lastGroup.closed) {
      lastGroup.end = String(e.time);  // a span lasts until the first line after it
      lastGroup.closed = true;
    }
    if (isStart) this.groups.push(liveSpan("group", e.group, e, typeof mk.title === "string" ? mk.title : ""));
  }

  trackProblem(e, step) {
    if (!((e.level === "error" && e.part !== true) || e.level === "warning")) return;
    const key = e.level === "error" ? "errors" : "warnings";
    (e.level === "error" ? this.errorLines : this.warningLines).push(e.line);
    if (this.nav) this.nav.dataset[key] = String((+this.nav.dataset[key] || 0) + 1);
    const s = this.steps[this.steps.length - 1], g = spanAt(this.groups, e.line);
    if (s && s.n === step) s[key]++;
    if (g) g[key]++;
    this.log.dispatchEvent(new CustomEvent("jp:problems"));
  }

  // A live entry: steps, groups and counts follow it; returns the step header to insert, if any.
  track(e) {
    const step = Number.isInteger(e.step) ? e.step : 0;
    const header = this.trackStep(e, step);
    this.trackGroup(e);
    this.trackProblem(e, step);
    return header;
  }

  refreshHeaders() {
    const s = this.steps[this.steps.length - 1], g = this.groups[this.groups.length - 1];
    const sh = s && document.getElementById("S" + s.n);
    if (sh) this.decorate(sh, s);
    const gh = g && document.getElementById("L" + g.first);
    if (gh) this.decorate(gh, g);
  }
}
