// Big logs: chunks of lines that arrive inside <noscript class="chunk">.
// With scripting on, the browser keeps a <noscript>'s content as one text node instead of
// building elements, so a 100,000-line page loads quickly (see renderers/html.py).  Each chunk
// becomes a placeholder of the right height and is turned into elements when it nears the
// screen, by a reader for exactly the markup the server writes: it creates only div, span and
// a elements (a link only to an http(s) URL, checked again by safeHref), sets text with
// textContent, and shows anything it does not recognise as text.
import { textPart } from "./links.js";

const LINE_RE = /^<div id="L(\d+)" class="l p([0-7])((?: [a-z]+)*)" data-n="\d+" data-t="([^"<>]*)" data-h="([^"<>]*)"(?: data-group="(\d+)")?>([\s\S]*)$/;
const SH_RE = /^<div class="sh" id="S(\d+)" data-step="\d+" data-first="(\d+)">([^<]*)$/;
// The only extra classes a line may carry: systemd's own, error (and a later line of one),
// warning, group header (expanded, quiet) and group end/reopen marker (see renderers/html.py).
const EXTRA = new Set(["sys", "e", "ec", "w", "gh", "gx", "gq", "gm"]);
const TAG_RE = /<[^>]*>/g;
const PART_RE = /<span class="([a-z0-9 ]*)">([^<]*)<\/span>|<a class="([a-z0-9 ]*)" href="([^"<>]*)" rel="noopener noreferrer nofollow">([^<]*)<\/a>|([^<]+)/g;
const ENTITY_RE = /&(amp|lt|gt|quot|#x27);/g;
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: "\"", "#x27": "'" };
export const LINE_START = '<div id="L';
export const LINE_END = "</div>\n";
// Chunks are built this far above and below the screen, before they scroll into it.
const BUILD_MARGIN = "1500px 0px";
// A line's height before one has been measured, in CSS pixels.
const DEFAULT_LINE_HEIGHT = 19.5;
// A step header's height, in lines.
const HEADER_LINES = 1.5;
// Chunks built between two yields to the event loop when every chunk is built.
const BUILD_SLICE = 10;

export function unescapeText(s) { return s.indexOf("&") < 0 ? s : s.replace(ENTITY_RE, (m, name) => ENTITIES[name]); }
export function lineNo(el) { return parseInt(el.id.slice(1), 10); }
function extraClasses(list) {
  let out = "";
  for (const c of list.split(" ")) if (EXTRA.has(c)) out += " " + c;
  return out;
}
// [line number, plain text] of one line's source, for the search index.
export function textOfSource(piece) {
  const m = LINE_RE.exec(piece);
  return m ? [+m[1], unescapeText(m[7].replace(TAG_RE, ""))] : null;
}

// hooks: folded(n), prepare(el), stepHeader(n, first, name), lineTime(el) (a line's time
// column as the reader chose it).
export class Chunks {
  constructor(log, hooks) {
    this.log = log;
    this.hooks = hooks;
    this.lazy = new Map();  // a lazy (unbuilt) chunk -> its source text, until it is built
    this.lineHeight = DEFAULT_LINE_HEIGHT;
    this.unskipped = new Set();
    this.observer = new IntersectionObserver((seen) => {
      for (const e of seen) if (e.isIntersecting && this.worthBuilding(e.target)) this.build(e.target);
    }, { rootMargin: BUILD_MARGIN });
    log.addEventListener("jp:fold", (ev) => this.refold(ev.detail.first, ev.detail.last));
  }

  lineFromSource(src) {
    const m = LINE_RE.exec(src);
    const div = document.createElement("div");
    if (!m) {
      const h = SH_RE.exec(src);
      if (h) return this.hooks.stepHeader(+h[1], +h[2], unescapeText(h[3]));
      div.className = "l p6";  // never expected: shown as text rather than lost
      div.textContent = src;
      return div;
    }
    div.id = "L" + m[1];
    div.className = "l p" + m[2] + extraClasses(m[3]);
    div.dataset.n = m[1];
    if (m[6]) div.dataset.group = m[6];
    div.dataset.t = unescapeText(m[4]);
    div.dataset.h = unescapeText(m[5]);
    this.hooks.lineTime(div);
    PART_RE.lastIndex = 0;
    let part;
    while ((part = PART_RE.exec(m[7])) !== null) {
      if (part[6] !== undefined) div.appendChild(document.createTextNode(unescapeText(part[6])));
      else if (part[4] !== undefined) div.appendChild(textPart(part[3], unescapeText(part[5]), unescapeText(part[4])));
      else div.appendChild(textPart(part[1], unescapeText(part[2]), null));
    }
    return div;
  }

  build(chunk) {
    const src = this.lazy.get(chunk);
    if (src === undefined) return;
    this.lazy.delete(chunk);
    this.observer.unobserve(chunk);
    const frag = document.createDocumentFragment();
    for (const piece of src.split(LINE_END)) {
      const line = piece.trimStart();  // the newline before a line, never the message's own text
      if (line) frag.appendChild(this.hooks.prepare(this.lineFromSource(line)));
    }
    chunk.replaceChildren(frag);
    chunk.classList.remove("lazy");
    chunk.style.height = "";
    this.unskip(chunk);  // laid out for real once, so it remembers its true size
  }

  buildLines(first, last) {
    for (const chunk of Array.from(this.lazy.keys())) {
      if (+chunk.dataset.first <= last && +chunk.dataset.last >= first) this.build(chunk);
    }
  }

  // In slices, so that a search over a huge log does not freeze the tab.
  async buildAll() {
    for (const chunk of Array.from(this.lazy.keys())) {
      this.build(chunk);
      if (this.lazy.size % BUILD_SLICE === 0) await new Promise((r) => setTimeout(r, 0));
    }
  }

  // The last chunk must have its real height before the page can be scrolled to its end.
  buildTail() {
    const chunks = this.log.getElementsByClassName("chunk");
    if (chunks.length) this.build(chunks[chunks.length - 1]);
  }

  shownLines(chunk) {
    let shown = 0;
    for (let n = +chunk.dataset.first; n <= +chunk.dataset.last; n++) if (!this.hooks.folded(n)) shown++;
    return shown;
  }

  // A chunk whose lines are all folded away (and that holds no step header) is not built: it
  // would show nothing, and a folded 20,000-line step would otherwise be built at once, since
  // its empty chunks are all "near the screen".
  worthBuilding(chunk) { return chunk.dataset.headers === "1" || this.shownLines(chunk) > 0; }

  sizeChunk(chunk) {
    const shown = this.shownLines(chunk) + (chunk.dataset.headers === "1" ? HEADER_LINES : 0);
    chunk.style.height = Math.round(shown * this.lineHeight) + "px";
  }

  unskip(chunk) {
    chunk.style.contentVisibility = "visible";
    if (!this.unskipped.size) {
      requestAnimationFrame(() => requestAnimationFrame(() => {
        for (const b of this.unskipped) b.style.contentVisibility = "";
        this.unskipped.clear();
      }));
    }
    this.unskipped.add(chunk);
  }

  // Lines first..last were folded or unfolded.  Built chunks off screen are not laid out
  // (content-visibility) and keep the size they had when last drawn, which folding changes: they
  // are laid out for real until the next frames have drawn them once.  Unbuilt chunks get the
  // height of the lines they will show.
  refold(first, last) {
    for (const chunk of this.log.getElementsByClassName("chunk")) {
      const lazy = this.lazy.has(chunk);
      const lines = chunk.getElementsByClassName("l");
      const a = lazy ? +chunk.dataset.first : lines.length ? +lines[0].dataset.n : 0;
      const b = lazy ? +chunk.dataset.last : lines.length ? +lines[lines.length - 1].dataset.n : -1;
      if (a > last || b < first) continue;
      if (lazy) {
        this.sizeChunk(chunk);
        this.observer.unobserve(chunk);  // observed again: a chunk already near the screen that
        this.observer.observe(chunk);    // now shows lines is reported (and built) at once
      } else this.unskip(chunk);
    }
  }

  placeChunks() {
    const firstChunk = this.log.querySelector("div.chunk");
    const shown = firstChunk ? firstChunk.getElementsByClassName("l").length : 0;
    if (shown) this.lineHeight = firstChunk.getBoundingClientRect().height / shown || this.lineHeight;
    for (const ns of Array.from(this.log.querySelectorAll("noscript.chunk"))) {
      const src = ns.textContent || "";
      // Line numbers run on within a chunk, and log text cannot hold "<div" (its "<" is
      // escaped), so the first and last line openings give the chunk's range.
      const chunk = document.createElement("div");
      chunk.className = "chunk lazy";
      chunk.dataset.first = String(parseInt(src.slice(src.indexOf(LINE_START) + LINE_START.length), 10) || 0);
      chunk.dataset.last = String(parseInt(src.slice(src.lastIndexOf(LINE_START) + LINE_START.length), 10) || 0);
      if (src.indexOf('<div class="sh"') >= 0) chunk.dataset.headers = "1";
      this.lazy.set(chunk, src);
      this.sizeChunk(chunk);
      ns.replaceWith(chunk);
      this.observer.observe(chunk);
    }
  }

  // A line wherever it is: built, or read from its chunk's source without building the chunk.
  peekLine(n) {
    const el = document.getElementById("L" + n);
    if (el) return el;
    for (const [chunk, src] of this.lazy) {
      if (+chunk.dataset.first > n || +chunk.dataset.last < n) continue;
      const i = src.indexOf(LINE_START + n + '"');
      if (i < 0) return null;
      const j = src.indexOf(LINE_END, i);
      return this.lineFromSource(j < 0 ? src.slice(i) : src.slice(i, j));
    }
    return null;
  }

  // The number of the last line on the page, built or not.
  lastLine() {
    const all = this.log.getElementsByClassName("l");
    let last = all.length ? lineNo(all[all.length - 1]) : 0;
    const chunks = this.log.getElementsByClassName("chunk");
    if (chunks.length) last = Math.max(last, +chunks[chunks.length - 1].dataset.last || 0);
    return last;
  }
}
