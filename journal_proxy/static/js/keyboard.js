// The keyboard.  The log is one tab stop: the arrows move a line cursor, Enter links to its line
// (Shift+Enter: a range), Left and Right fold and unfold the group whose header it is on.  On the
// page: / and the first Ctrl+F go to the search, e / Shift+E to the next and previous error.

export function typing(t) {
  return !!t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
}

export class LineCursor {
  constructor(log, { chunks, triage, anchors }) {
    Object.assign(this, { log, chunks, triage, anchors, cursor: null });
    log.addEventListener("keydown", (ev) => this.onKey(ev));
    log.addEventListener("blur", () => this.set(null));
  }

  set(el) {
    if (this.cursor) this.cursor.classList.remove("cur");
    this.cursor = el;
    if (el) {
      el.classList.add("cur");
      el.scrollIntoView({ block: "nearest" });
    }
  }

  shown(el) {
    if (el.classList.contains("fo") || el.classList.contains("gm")) return false;
    return !document.body.classList.contains("filtering") || el.classList.contains("hit");
  }

  neighbour(el, dir) {
    const step = (x) => (dir > 0 ? x.nextElementSibling : x.previousElementSibling);
    let next = step(el);
    let chunk = el.parentElement;
    for (;;) {
      while (next && !(next.classList.contains("l") && this.shown(next))) next = step(next);
      if (next) return next;
      do chunk = step(chunk);
      while (chunk && !chunk.classList.contains("chunk"));
      if (!chunk) return null;
      this.chunks.build(chunk);  // nothing to do once built
      next = dir > 0 ? chunk.firstElementChild : chunk.lastElementChild;
    }
  }

  firstLineOnScreen() {
    const top = Math.max(0, document.querySelector(".top").getBoundingClientRect().bottom);
    const hit = document.elementFromPoint(this.log.getBoundingClientRect().left + 40, top + 4);
    const line = hit && hit.closest(".l");
    if (line && this.shown(line)) return line;
    for (const el of this.log.getElementsByClassName("l")) if (el.getBoundingClientRect().bottom > top && this.shown(el)) return el;
    return null;
  }

  onKey(ev) {
    if (ev.target !== this.log) return;
    const cursor = this.cursor;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const next = cursor && cursor.isConnected ? this.neighbour(cursor, ev.key === "ArrowDown" ? 1 : -1) : this.firstLineOnScreen();
      if (next) this.set(next);
    } else if ((ev.key === "ArrowLeft" || ev.key === "ArrowRight") && cursor && cursor.classList.contains("gh")) {
      ev.preventDefault();
      this.triage.setOpen(this.triage.groupOf(cursor), ev.key === "ArrowRight");
    } else if (ev.key === "Enter" && cursor) {
      ev.preventDefault();
      this.anchors.selectLine(parseInt(cursor.id.slice(1), 10), ev.shiftKey);
    } else if (ev.key === "Escape") {
      this.set(null);
    }
  }
}

export function setUpPageKeys(search, nextError) {
  const toSearch = (ev) => { ev.preventDefault(); search.focus(); search.select(); };
  document.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && (ev.key === "f" || ev.key === "F")) {
      if (document.activeElement !== search) toSearch(ev);  // the second one: the browser's own find
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    if (ev.key === "/") toSearch(ev);
    else if (ev.key === "e" || ev.key === "E") {
      ev.preventDefault();
      nextError(ev.shiftKey ? -1 : 1);
    }
  });
}
