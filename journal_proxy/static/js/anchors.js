// Anchors: #L42 and #L10-L20, the copy button, a click in a line's gutter (shift-click, or
// "Range" on a phone, for a range), and going to a line (which tells the page by "jp:jump").
import { lineNo } from "./chunks.js";

// Lines built either side of a line gone to, so no chunk near it changes height after the jump.
export const BUILD_AROUND = 500;
// After a jump the line stays pinned on screen this long while the chunks around it are drawn.
const PIN_MS = 1500;
// A range highlights at most this many lines.
const MAX_RANGE = 100000;
// The gutter's width when the stylesheet's cannot be read, and the slack beside it, in px.
const GUTTER_PX = 60;
const GUTTER_SLACK_PX = 4;
const HASH_RE = /^#L(\d+)(?:-L(\d+))?$/;

// [first, last] of a #L anchor, or null.
export function parseHash(hash) {
  const m = HASH_RE.exec(hash);
  if (!m) return null;
  let a = parseInt(m[1], 10), b = m[2] ? parseInt(m[2], 10) : a;
  if (b < a) [a, b] = [b, a];
  return [a, b];
}

export class Anchors {
  constructor(log, triage, chunks) {
    Object.assign(this, { log, triage, chunks, marked: null, pinnedUntil: 0, anchorLine: null, rangeMode: false });
    this.copyBtn = document.getElementById("copy");
    this.rangeBtn = document.getElementById("range");
    this.copyBtn.addEventListener("click", () => this.copy());
    this.rangeBtn.addEventListener("click", () => this.setRangeMode(!this.rangeMode));
    log.addEventListener("click", (ev) => this.onGutterClick(ev));
    window.addEventListener("hashchange", () => this.highlight(true));
    new ResizeObserver(() => {
      if (this.marked && performance.now() < this.pinnedUntil) this.marked.scrollIntoView({ block: "center" });
    }).observe(log);
    for (const type of ["wheel", "touchstart", "mousedown"]) window.addEventListener(type, () => { this.pinnedUntil = 0; }, { passive: true });
  }

  // Bring line n on screen (unfolded, its chunk built) and mark it.
  goToLine(n) {
    this.triage.reveal(n);
    this.chunks.buildLines(n - BUILD_AROUND, n + BUILD_AROUND);
    const el = document.getElementById("L" + n);
    if (!el) return null;
    if (this.marked) this.marked.classList.remove("xm");
    this.marked = el;
    el.classList.add("xm");
    this.log.dispatchEvent(new CustomEvent("jp:jump", { detail: { line: n } }));
    el.scrollIntoView({ block: "center" });
    // Chunks drawn for the first time near the line may still move it: it stays pinned on screen
    // while the log's size changes, for a moment or until the reader scrolls on their own.
    this.pinnedUntil = performance.now() + PIN_MS;
    return el;
  }

  copy() {
    navigator.clipboard.writeText(location.href).then(
      () => { this.copyBtn.textContent = "Copied"; },
      () => { this.copyBtn.textContent = "Copy failed"; });
  }

  clearHighlight() {
    for (const el of Array.from(this.log.getElementsByClassName("hl"))) el.classList.remove("hl");
    this.copyBtn.disabled = true;
    this.copyBtn.textContent = "Copy link to line";
  }

  highlight(scroll) {
    this.clearHighlight();
    const range = parseHash(location.hash);
    if (!range) return;
    this.triage.reveal(range[0]);
    this.chunks.buildLines(range[0] - BUILD_AROUND, range[1] + BUILD_AROUND);
    const first = document.getElementById("L" + range[0]);
    if (!first) return;
    for (let n = range[0]; n <= range[1] && n - range[0] < MAX_RANGE; n++) {
      const el = document.getElementById("L" + n);
      if (el) el.classList.add("hl");
    }
    this.copyBtn.disabled = false;
    if (range[1] > range[0]) this.copyBtn.textContent = "Copy link to lines";
    if (scroll) first.scrollIntoView({ block: "start" });  // lands below the header: see .l in style.css
  }

  // Select line n (extend: a range from the line selected before) and put it in the URL.
  selectLine(n, extend) {
    const a = this.anchorLine;
    const ranged = extend && a;
    const hash = ranged ? "#L" + Math.min(a, n) + "-L" + Math.max(a, n) : "#L" + n;
    if (!ranged) this.anchorLine = n;
    history.replaceState(null, "", hash);
    this.highlight(false);
    return ranged;
  }

  // Without a Shift key (a phone): "Range" makes the next tap on a line number the other end of
  // the range, from the line already selected (or from the first line tapped after it).
  setRangeMode(on) {
    this.rangeMode = on;
    this.rangeBtn.setAttribute("aria-pressed", String(on));
    if (on) {
      const sel = parseHash(location.hash);
      this.anchorLine = sel && sel[0] === sel[1] ? sel[0] : null;
    }
  }

  // The line number is drawn by the stylesheet in the line's left gutter: a click there selects
  // the line.  A link in the log is followed, not a line selection.
  onGutterClick(ev) {
    if (ev.target.closest("a")) return;
    const line = ev.target.closest(".l");
    if (!line) return;
    const gutter = parseFloat(getComputedStyle(line, "::before").width) || GUTTER_PX;
    if (ev.clientX - line.getBoundingClientRect().left > gutter + GUTTER_SLACK_PX) return;
    if (this.selectLine(lineNo(line), ev.shiftKey || this.rangeMode) && this.rangeMode) this.setRangeMode(false);
  }
}
