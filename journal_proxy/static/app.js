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

  function lines() { return log.getElementsByClassName("l"); }
  function lineNo(el) { return parseInt(el.id.slice(1), 10); }

  // ---- big logs: blocks of lines that arrive inside <noscript class="chunk"> -------------
  // With scripting on, the browser keeps a <noscript>'s content as one text node instead of
  // building elements, so a 100,000-line page loads quickly (see renderers/html.py).  Each block
  // becomes a placeholder of the right height and is turned into elements when it nears the
  // screen, by a reader for exactly the markup the server writes: it creates only div and span
  // elements, sets text with textContent, and shows anything it does not recognise as text.
  const LINE_RE = /^<div id="L(\d+)" class="l p([0-7])( sys)?" data-n="\d+" data-t="([^"<>]*)" data-h="([^"<>]*)">([\s\S]*)$/;
  const PART_RE = /<span class="([a-z0-9 ]*)">([^<]*)<\/span>|([^<]+)/g;
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
    if (localTime) setLineTime(div);
    PART_RE.lastIndex = 0;
    let part;
    while ((part = PART_RE.exec(m[6])) !== null) {
      if (part[3] !== undefined) {
        div.appendChild(document.createTextNode(unescapeText(part[3])));
      } else {
        const span = document.createElement("span");
        span.className = part[1];
        span.textContent = unescapeText(part[2]);
        div.appendChild(span);
      }
    }
    return div;
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
    const d = new Date(iso);
    if (isNaN(d)) return "";
    const ms = pad(d.getMilliseconds(), 3);
    if (!localTime) return iso.slice(11, 23);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + ms;
  }
  function setLineTime(el) {
    const h = el.dataset.h || "";
    el.dataset.h = formatTime(el.dataset.t || "") + h.slice(h.indexOf(" "));
  }
  function applyTimeZone(relabelLines) {
    // The server writes UTC; rewriting 100,000 lines is only worth it when the zone changes.
    if (relabelLines) for (const el of lines()) setLineTime(el);
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

  // ---- wrap ----------------------------------------------------------------------------
  const wrapBtn = document.getElementById("wrap");
  wrapBtn.addEventListener("click", function () {
    const nowrap = body.classList.toggle("nowrap");
    wrapBtn.setAttribute("aria-pressed", String(!nowrap));
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
    const hash = extend && anchorLine ? "#L" + Math.min(anchorLine, n) + "-L" + Math.max(anchorLine, n) : "#L" + n;
    if (!extend) anchorLine = n;
    history.replaceState(null, "", hash);
    highlight(false);
  }
  log.addEventListener("click", function (ev) {
    const line = ev.target.closest(".l");
    if (!line) return;
    const gutter = parseFloat(getComputedStyle(line, "::before").width) || 60;
    if (ev.clientX - line.getBoundingClientRect().left > gutter + 4) return;
    selectLine(lineNo(line), ev.shiftKey);
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

  // ---- live lines (fetch + SSE parsing, so Last-Event-ID is sent from the start) -----------
  function atBottom() { return window.innerHeight + window.scrollY >= document.body.scrollHeight - 40; }
  function makeLine(e) {
    const div = document.createElement("div");
    const prio = Number.isInteger(e.priority) && e.priority >= 0 && e.priority <= 7 ? e.priority : 6;
    div.className = "l p" + prio + (e.system === true ? " sys" : "");
    div.id = "L" + e.line;
    div.dataset.n = String(e.line);
    div.dataset.t = String(e.time);
    div.dataset.h = formatTime(String(e.time)) + " " + String(e.identifier);
    for (const [cls, text] of e.spans || [["", e.message]]) {
      if (cls && CLASS_OK.test(cls)) {
        const s = document.createElement("span");
        s.className = cls; s.textContent = text; div.appendChild(s);
      } else {
        div.appendChild(document.createTextNode(text));
      }
    }
    return div;
  }
  function appendEntry(e) {
    if (!Number.isInteger(e.line) || e.line <= lastLine) return;  // never a duplicate
    const follow = atBottom();
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
    if (follow) window.scrollTo(0, document.body.scrollHeight);
  }
  function setStatus(s) {
    body.dataset.state = s.state;
    statusEl.className = "badge s-" + s.state;
    statusEl.textContent = s.description;
    document.title = (s.unit || "log") + " · " + s.description;
    const dur = document.getElementById("duration");
    if (s.duration != null) dur.textContent = s.duration >= 60 ? Math.floor(s.duration / 60) + "m " + (s.duration % 60).toFixed(1) + "s" : s.duration.toFixed(1) + "s";
  }
  let stopped = false;
  function handleEvent(type, data, id) {
    let obj;
    try { obj = JSON.parse(data); } catch (e) { return; }
    if (type === "status") setStatus(obj);
    else if (type === "end") {
      setStatus(obj.status);
      stopped = true;
      liveEl.textContent = obj.reason === "finished" ? "Finished." : "Live updates stopped: " + obj.reason + ".";
    } else if (type === "message") appendEntry(obj);
  }
  async function follow() {
    let delay = 1000;
    while (!stopped) {
      liveEl.textContent = "Live";
      try {
        const resp = await fetch(location.pathname, {
          headers: { "Accept": "text/event-stream", "Last-Event-ID": String(lastLine) },
          cache: "no-store", credentials: "same-origin",
        });
        if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
        delay = 1000;
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "", type = "message", data = [], id = null;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            let line = buf.slice(0, nl); buf = buf.slice(nl + 1);
            if (line.endsWith("\r")) line = line.slice(0, -1);
            if (line === "") {
              if (data.length) handleEvent(type, data.join("\n"), id);
              type = "message"; data = []; id = null;
            } else if (line.startsWith(":")) {
              continue;
            } else {
              const c = line.indexOf(":");
              const field = c < 0 ? line : line.slice(0, c);
              const val = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
              if (field === "event") type = val;
              else if (field === "data") data.push(val);
              else if (field === "id") id = val;
            }
          }
        }
      } catch (e) {
        // fall through to reconnect
      }
      if (stopped) break;
      liveEl.textContent = "Reconnecting…";
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  applyTimeZone(localTime);
  highlight(true);
  if (body.dataset.state === "running") follow();
})();
