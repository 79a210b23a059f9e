// Following the tail.  A running log opens at its last line and keeps the newest line on screen,
// like `tail -f`.  Scrolling up (or going to a line: "jp:jump") pauses that; new lines ("jp:line")
// then only count up in the "N new lines" button, which (like the End key, or scrolling back to
// the bottom) resumes following.  "jp:ended": no more lines will come.
import { typing } from "./keyboard.js";

// Within this many pixels of the end counts as at the bottom.
const BOTTOM_SLACK_PX = 24;

export class Tail {
  constructor(log, chunks, { live, following }) {
    Object.assign(this, { log, chunks, live, following, unseen: 0, lastY: window.scrollY, frame: 0 });
    this.root = document.documentElement;
    this.newBtn = document.getElementById("newlines");
    this.newBtn.addEventListener("click", () => this.resume());
    window.addEventListener("scroll", () => this.onScroll(), { passive: true });
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== "End" || ev.ctrlKey || ev.altKey || ev.metaKey || typing(ev.target)) return;
      ev.preventDefault();
      this.resume();
    });
    log.addEventListener("jp:jump", () => { this.following = false; });
    log.addEventListener("jp:line", () => this.onLine());
    log.addEventListener("jp:ended", () => { this.live = this.following = false; });
    // Chunks built near the screen, fonts and window size change the page's height: stay at the
    // bottom while following.
    new ResizeObserver(() => { if (this.following) this.toBottom(); }).observe(log);
  }

  atBottom() { return window.innerHeight + window.scrollY >= this.root.scrollHeight - BOTTOM_SLACK_PX; }

  toBottom() {
    this.chunks.buildTail();
    window.scrollTo(window.scrollX, this.root.scrollHeight);
    this.lastY = window.scrollY;
  }

  showUnseen() {
    this.newBtn.hidden = this.unseen === 0;
    this.newBtn.textContent = "↓ " + this.unseen + (this.unseen === 1 ? " new line" : " new lines");
  }

  resume() {
    this.following = this.live;
    this.unseen = 0;
    this.showUnseen();
    this.toBottom();
  }

  onScroll() {
    const y = window.scrollY;
    if (this.atBottom()) {
      if (this.unseen) { this.unseen = 0; this.showUnseen(); }
      if (this.live) this.following = true;
    } else if (y < this.lastY - 1) {
      this.following = false;
    }
    this.lastY = y;
  }

  onLine() {
    if (this.following) {
      // Once per frame, not per line: a burst of lines (a reconnect's backlog) costs one layout.
      if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; if (this.following) this.toBottom(); });
    } else {
      this.unseen++;
      this.showUnseen();
    }
  }
}
