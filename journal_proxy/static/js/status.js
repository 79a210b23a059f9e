// The run's status: badge, elapsed time, tab title and icon (a background tab shows the outcome).
import { formatElapsed, formatFinal } from "./durations.js";

const TICK_MS = 1000;
// A server clock this far from ours is corrected for in the elapsed time.
const SKEW_THRESHOLD_MS = 2000;
const MS_PER_SECOND = 1000;
const STATE_RE = /^[a-z-]+$/;
const MARKS = { succeeded: "✓ ", failed: "✗ " };

export class Status {
  constructor(startMs) {
    this.startMs = startMs;
    this.badge = document.getElementById("status");
    this.icon = document.getElementById("icon");
    this.duration = document.getElementById("duration");
    this.unit = (document.querySelector("h1.unit") || {}).textContent || "log";
    this.skewMs = 0;  // server clock minus ours, from the Date header of the live stream
    this.ticker = 0;
  }

  // The Date header of a response from the server.
  serverDate(header) {
    const date = Date.parse(header || "");
    if (!isNaN(date) && Math.abs(date - Date.now()) > SKEW_THRESHOLD_MS) this.skewMs = date - Date.now();
  }

  tick() {
    if (!isNaN(this.startMs)) this.duration.textContent = formatElapsed((Date.now() + this.skewMs - this.startMs) / MS_PER_SECOND);
  }

  set(s) {
    if (!s || typeof s.state !== "string" || !STATE_RE.test(s.state)) return;
    document.body.dataset.state = s.state;
    this.badge.className = "badge s-" + s.state;
    this.badge.textContent = String(s.description);
    document.title = (MARKS[s.state] || "") + (s.unit || this.unit) + " · " + s.description;
    if (this.icon && this.icon.dataset[s.state]) this.icon.href = this.icon.dataset[s.state];
    if (s.state !== "running") {
      clearInterval(this.ticker);
      this.ticker = 0;
      if (typeof s.duration === "number") this.duration.textContent = formatFinal(s.duration);
    } else if (!this.ticker) {
      this.tick();
      this.ticker = setInterval(() => this.tick(), TICK_MS);
    }
  }
}
