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
  const LINE_RE = /^<div id="L(\d+)" class="l p([0-7])( sys)?" data-n="\d+" data-t="([^"<>]*)" data-h="([^"<>]*)">([\s\S]*)$/;
  const PART_RE = /<span class="([a-z0-9 ]*)">([^<]*)<\/span>|<a class="([a-z0-9 ]*)" href="([^"<>]*)" rel="noopener noreferrer nofollow">([^<]*)<\/a>|([^<]+)/g;
  const ENTITY_RE = /&(amp|lt|gt|quot|#x27);/g;
  const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: "\"", "#x27": "'" };
  const LINE_START = '<div id="L';
  const LINE_END = "</div>\n";
  const pending = new Map();  // placeholder -> the block's source text, until it is built
  let lineHeight = 19.5;
  function unescapeText(s) { return s.indexOf("&") < 0 ? s : s.replace(ENTITY_RE, (m, name) => ENTITIES[name]); }
  function lineFromSource(src) {
    const m = LINE_RE.exec(src);
    const div = document.createElement("div");
    if (!m) {  // never expected: shown as text rather than lost
      div.className = "l p6";
      div.textContent = src;
      return div;
    }
    div.id = "L" + m[1];
    div.className = "l p" + m[2] + (m[3] || "");
    div.dataset.n = m[1];
    div.dataset.t = unescapeText(m[4]);
    div.dataset.h = unescapeText(m[5]);
    if (localTime || timeMode !== "clock") setLineTime(div);
    PART_RE.lastIndex = 0;
    let part;
    while ((part = PART_RE.exec(m[6])) !== null) {
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
      if (line) frag.appendChild(lineFromSource(line));
    }
    block.replaceChildren(frag);
    block.classList.remove("lazy");
    block.style.height = "";
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
  const lazyObserver = new IntersectionObserver(function (seen) {
    for (const e of seen) if (e.isIntersecting) build(e.target);
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
      block.style.height = Math.round((last - first + 1) * lineHeight) + "px";
      pending.set(block, src);
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
  function shown(el) { return !body.classList.contains("filtering") || el.classList.contains("hit"); }
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
    } else if (ev.key === "Enter" && cursor) {
      ev.preventDefault();
      selectLine(lineNo(cursor), ev.shiftKey);
    } else if (ev.key === "Escape") {
      setCursor(null);
    }
  });
  log.addEventListener("blur", () => setCursor(null));
  window.addEventListener("hashchange", () => highlight(true));

  // ---- search --------------------------------------------------------------------------
  const search = document.getElementById("search");
  const matches = document.getElementById("matches");
  const filter = document.getElementById("filter");
  let searchTimer = 0;
  function matchLine(el, q) {
    const hit = q !== "" && el.textContent.toLowerCase().includes(q);
    el.classList.toggle("hit", hit);
    return hit;
  }
  async function runSearch() {
    const q = search.value.trim().toLowerCase();
    if (q && pending.size) {
      matches.textContent = "Searching…";
      await buildAll();
      if (search.value.trim().toLowerCase() !== q) return;  // typed on meanwhile
    }
    let count = 0;
    for (const el of lines()) if (matchLine(el, q)) count++;
    matches.textContent = q ? count + (count === 1 ? " match" : " matches") : "";
    body.classList.toggle("filtering", q !== "" && filter.checked);
    if (q && count) {
      const first = log.querySelector(".l.hit");
      if (first) first.scrollIntoView({ block: "start" });
    }
  }
  search.addEventListener("input", function () { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 150); });
  filter.addEventListener("change", runSearch);

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
  function makeLine(e) {
    const div = document.createElement("div");
    const prio = Number.isInteger(e.priority) && e.priority >= 0 && e.priority <= 7 ? e.priority : 6;
    div.className = "l p" + prio + (e.system === true ? " sys" : "");
    div.id = "L" + e.line;
    div.dataset.n = String(e.line);
    div.dataset.t = String(e.time);
    div.dataset.h = formatTime(String(e.time)) + " " + String(e.identifier).replace(/\r/g, "");
    const spans = Array.isArray(e.spans) ? e.spans : [["", String(e.message)]];
    const runs = [];
    for (const sp of spans) if (Array.isArray(sp) && typeof sp[1] === "string") runs.push([typeof sp[0] === "string" ? sp[0] : "", sp[1]]);
    for (const [cls, text, href] of withLinks(runs)) div.appendChild(textPart(cls, text, href));
    return div;
  }
  let bottomFrame = 0;
  function appendEntry(e) {
    if (!Number.isInteger(e.line) || e.line <= lastLine) return;  // never a duplicate
    if (!chunk || chunkLines >= 500 || chunk.classList.contains("lazy")) {
      chunk = document.createElement("div"); chunk.className = "chunk"; log.appendChild(chunk); chunkLines = 0;
    }
    const el = makeLine(e);
    chunk.appendChild(el);
    chunkLines++;
    lastLine = e.line;
    const q = search.value.trim().toLowerCase();
    if (q && matchLine(el, q)) matches.textContent = log.getElementsByClassName("hit").length + " matches";
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
        const resp = await fetch(location.pathname, {
          headers: { "Accept": "text/event-stream", "Last-Event-ID": String(lastLine) },
          cache: "no-store", credentials: "same-origin",
        });
        if (resp.status === 404 || resp.status === 410) {
          stopped = true;
          live = following = false;
          liveEl.textContent = "Live updates stopped: this log is no longer available.";
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
  highlight(true);
  if (running) {
    setStatus({ state: "running", description: statusEl.textContent, unit: unitName });
    if (following) toBottom();
    follow();
  }
})();
