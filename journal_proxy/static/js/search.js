// Search: every line, built or not; Enter / Shift+Enter walk the matches.  The text of every line
// is read once (from the elements built, and from the chunks' source without building them) into
// an index; a search runs over it in slices of a few milliseconds, so even a slow regular
// expression never freezes the tab: it is stopped after SEARCH_BUDGET_MS with a message.  Live
// lines ("jp:line") join the index and the matches.
import { LINE_END, textOfSource } from "./chunks.js";
import { makeMatcher } from "./regex_guard.js";

const SEARCH_BUDGET_MS = 3000;
// The search works this long before it yields to the page.
const SLICE_MS = 12;
// Lines tested between two looks at the clock (a mask: a power of two minus one).
const CLOCK_EVERY = 255;
// Typing settles this long before the search runs.
const DEBOUNCE_MS = 150;
const yieldToPage = () => new Promise((r) => setTimeout(r, 0));

export class Search {
  constructor(log, { chunks, triage, goToLine }) {
    Object.assign(this, { log, chunks, triage, goToLine });
    Object.assign(this, { timer: 0, generation: 0, indexN: null, indexT: null, indexLower: null });
    Object.assign(this, { found: [], pos: -1, matcher: null, hits: new Set() });
    this.box = document.getElementById("search");
    this.matches = document.getElementById("matches");
    this.filter = document.getElementById("filter");
    this.regexBox = document.getElementById("regex");
    this.caseBox = document.getElementById("case");
    this.box.addEventListener("input", () => this.soon());
    for (const el of [this.filter, this.regexBox, this.caseBox]) if (el) el.addEventListener("change", () => this.run());
    this.box.addEventListener("keydown", (ev) => this.onKey(ev));
    log.addEventListener("jp:line", (ev) => this.matchLive(ev.detail.el));
  }

  // A line just built: marked if it matches.
  mark(el) {
    if (!el.classList.contains("sh") && this.hits.has(+el.dataset.n)) el.classList.add("hit");
    return el;
  }

  async buildIndex() {
    if (this.indexN) return;
    const ns = [], ts = [];
    let slice = performance.now();
    for (const chunk of Array.from(this.log.getElementsByClassName("chunk"))) {
      const src = this.chunks.lazy.get(chunk);
      if (src === undefined) {
        for (const el of chunk.getElementsByClassName("l")) { ns.push(+el.dataset.n); ts.push(el.textContent); }
      } else {
        for (const piece of src.split(LINE_END)) {
          const got = textOfSource(piece.trimStart());
          if (got) { ns.push(got[0]); ts.push(got[1]); }
        }
      }
      if (performance.now() - slice > SLICE_MS) { await yieldToPage(); slice = performance.now(); }
    }
    if (!this.indexN) { this.indexN = ns; this.indexT = ts; }
  }

  setHits(list) {
    for (const el of Array.from(this.log.getElementsByClassName("hit"))) el.classList.remove("hit");
    this.hits.clear();
    for (const n of list) {
      this.hits.add(n);
      const el = document.getElementById("L" + n);
      if (el) el.classList.add("hit");
    }
  }

  showPosition() {
    const count = this.found.length;
    if (!count) { this.matches.textContent = "No matches"; return; }
    this.matches.textContent = this.pos < 0 ? count + (count === 1 ? " match" : " matches") : (this.pos + 1) + " of " + count;
  }

  goToMatch(dir) {
    const count = this.found.length;
    if (!count) return;
    this.pos = this.pos < 0 ? (dir > 0 ? 0 : count - 1) : (this.pos + dir + count) % count;
    this.goToLine(this.found[this.pos]);
    this.showPosition();
  }

  // The matching line numbers, or null when the search was superseded or too slow.
  async scan(m, gen) {
    if (m.lower && !this.indexLower) this.indexLower = this.indexT.map((t) => t.toLowerCase());
    const texts = m.lower ? this.indexLower : this.indexT;
    const hits = [];
    const began = performance.now();
    let slice = began;
    for (let i = 0; i < texts.length; i++) {
      if (m.test(texts[i])) hits.push(this.indexN[i]);
      if ((i & CLOCK_EVERY) !== 0 || performance.now() - slice <= SLICE_MS) continue;
      if (performance.now() - began > SEARCH_BUDGET_MS) {
        this.matches.textContent = "Stopped: the pattern is too slow";
        return null;
      }
      await yieldToPage();
      if (gen !== this.generation) return null;
      slice = performance.now();
    }
    return hits;
  }

  async run() {
    const gen = ++this.generation;
    const q = this.box.value.trim() === "" ? "" : this.box.value;
    this.found = []; this.pos = -1; this.matcher = null;
    document.body.classList.remove("filtering");
    const m = q ? makeMatcher(q, { regex: !!(this.regexBox && this.regexBox.checked), caseSensitive: !!(this.caseBox && this.caseBox.checked) }) : null;
    if (!m || m.error) { this.setHits([]); this.matches.textContent = m ? m.error : ""; return; }
    this.matches.textContent = "Searching…";
    await this.buildIndex();
    if (gen !== this.generation) return;
    const hits = await this.scan(m, gen);
    if (hits === null) return;
    this.matcher = m;
    this.found = hits;
    this.setHits(hits);
    if (this.filter.checked && hits.length) {
      await this.chunks.buildAll();
      if (gen !== this.generation) return;
      for (const n of hits) this.triage.reveal(n);
      document.body.classList.add("filtering");
    }
    if (hits.length) this.goToMatch(1);
    else this.showPosition();
  }

  soon() { clearTimeout(this.timer); this.timer = setTimeout(() => this.run(), DEBOUNCE_MS); }

  onKey(ev) {
    if (ev.key === "Enter") {
      ev.preventDefault();
      if (this.timer && this.matcher === null) { clearTimeout(this.timer); this.run(); return; }
      this.goToMatch(ev.shiftKey ? -1 : 1);
    } else if (ev.key === "Escape") {
      this.box.blur();
      this.log.focus({ preventScroll: true });
    }
  }

  matchLive(el) {
    if (this.indexN) {
      this.indexN.push(+el.dataset.n);
      this.indexT.push(el.textContent);
      if (this.indexLower) this.indexLower.push(el.textContent.toLowerCase());
    }
    const m = this.matcher;
    if (!m || !m.test(m.lower ? el.textContent.toLowerCase() : el.textContent)) return;
    this.found.push(+el.dataset.n);
    this.hits.add(+el.dataset.n);
    el.classList.add("hit");
    this.showPosition();
  }
}
