// Live lines: fetch + SSE parsing (so Last-Event-ID is sent from the start), each entry made
// into a line with DOM calls and announced by "jp:line"; "jp:ended" when the stream really ends.
// The same facts as the server's markup: step_name starts a step (a header before the line),
// marker makes a group header or a hidden end/reopen marker, level marks an error or warning,
// annotation's file/line/col/title are shown before the message (all set as text).
//
// Only a real end ends a live page: the run finished, or the server gave up on it for good
// (idle, max-duration, revoked...).  A server shutting down or restarting, a journal server that
// stopped answering, a reader dropped for being slow, or a cut connection: the page reconnects,
// with backoff, from its last line (Last-Event-ID), so nothing is lost or repeated.  "reread"
// (the run finished with lines the follow could not see) reloads the page.
import { textPart, withLinks } from "./links.js";
import { SseParser } from "./sse.js";

// Lines in one chunk made by live lines (the server's chunks hold as many, CHUNK_LINES).
const LIVE_CHUNK_LINES = 500;
const RECONNECT = new Set(["shutdown", "upstream", "too-slow", "no-viewers"]);
// Waits before reconnecting: 0.5 s, 1 s, 2 s ... 15 s, each with up to 30% jitter, so that the
// viewers of a restarted server do not all come back at the same instant.  A stream the server
// ended on purpose (shutdown) is retried after the shortest wait: the new server is usually up.
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 15000;
const RETRY_JITTER = 0.3;
const GONE = new Set([403, 404, 410]);
const DEFAULT_PRIORITY = 6;

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

// One entry of the SSE stream as a line element; formatTime gives the time column.
export function makeLine(e, formatTime) {
  const div = document.createElement("div");
  const prio = Number.isInteger(e.priority) && e.priority >= 0 && e.priority <= 7 ? e.priority : DEFAULT_PRIORITY;
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

export function retryDelay(failures, now) {
  const base = now ? RETRY_FIRST_MS : Math.min(RETRY_FIRST_MS * 2 ** failures, RETRY_MAX_MS);
  return base * (1 + RETRY_JITTER * Math.random());
}

export class Live {
  constructor(log, { triage, status, prepare, formatTime, lastLine }) {
    Object.assign(this, { log, triage, status, prepare, formatTime, lastLine });
    Object.assign(this, { stopped: false, retryNow: false, chunk: log.querySelector(".chunk:last-of-type") });
    this.chunkLines = this.chunk ? this.chunk.getElementsByClassName("l").length : 0;
    this.liveEl = document.getElementById("live");
  }

  append(e) {
    if (!Number.isInteger(e.line) || e.line <= this.lastLine) return;  // never a duplicate
    if (!this.chunk || this.chunkLines >= LIVE_CHUNK_LINES || this.chunk.classList.contains("lazy")) {
      this.chunk = document.createElement("div");
      this.chunk.className = "chunk";
      this.log.appendChild(this.chunk);
      this.chunkLines = 0;
    }
    const header = this.triage.track(e);
    if (header) this.chunk.appendChild(header);
    const el = this.prepare(makeLine(e, this.formatTime));
    this.chunk.appendChild(el);
    this.chunkLines++;
    this.lastLine = e.line;
    this.triage.refreshHeaders();
    this.log.dispatchEvent(new CustomEvent("jp:line", { detail: { el } }));
    for (const note of this.log.querySelectorAll(":scope > .note")) note.remove();
  }

  end(words) {
    this.stopped = true;
    this.liveEl.textContent = words;
    this.log.dispatchEvent(new CustomEvent("jp:ended"));
  }

  handle(type, data) {
    let obj;
    try { obj = JSON.parse(data); } catch { return; }
    if (!obj || typeof obj !== "object") return;
    if (type === "status") this.status.set(obj);
    else if (type === "message") this.append(obj);
    else if (type === "end") {
      this.status.set(obj.status);
      if (RECONNECT.has(obj.reason)) this.retryNow = true;
      // Finished, with last lines journald stored without the run's ID: only the finished log,
      // read again, shows them in their place (and numbers the lines as every later read will).
      else if (obj.reason === "reread") location.reload();
      else this.end(obj.reason === "finished" ? "Finished." : "Live updates stopped: " + String(obj.reason) + ".");
    }
  }

  // One connection, read to its end; false when the log is gone for good.
  async connect() {
    const resp = await fetch(location.pathname + location.search, {
      headers: { "Accept": "text/event-stream", "Last-Event-ID": String(this.lastLine) },
      cache: "no-store", credentials: "same-origin",
    });
    if (GONE.has(resp.status)) {
      this.end(resp.status === 403
        ? "Live updates stopped: this link is not accepted (403). Reload with a valid link."
        : "Live updates stopped: this log is no longer available.");
      return;
    }
    if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
    this.status.serverDate(resp.headers.get("Date"));
    return resp.body.pipeThrough(new TextDecoderStream()).getReader();
  }

  async read(reader) {
    const parser = new SseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const ev of parser.push(value)) this.handle(ev.type, ev.data);
      if (this.stopped) { reader.cancel(); return; }
    }
  }

  async follow() {
    let failures = 0;
    while (!this.stopped) {
      this.liveEl.textContent = failures ? "Reconnecting…" : "Live";
      this.retryNow = false;
      try {
        const reader = await this.connect();
        if (!reader) break;
        failures = 0;
        this.liveEl.textContent = "Live";
        await this.read(reader);
      } catch {
        // a refused or cut connection: try again below
      }
      if (this.stopped) break;
      this.liveEl.textContent = "Reconnecting…";
      const wait = retryDelay(failures, this.retryNow);
      failures++;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
