// Timestamps: "clock" (as the server writes them), "relative" (+1:02.345 since the start) or
// "off"; UTC or local.  Both choices are remembered in this browser.
import { formatRelative, pad } from "./durations.js";

const TIME_MODES = ["clock", "relative", "off"];
const MODE_WORDS = { clock: "Time", relative: "+Time", off: "No time" };
const MODE_LABELS = { clock: "clock time", relative: "since the start", off: "hidden" };
const TZ_KEY = "jp-tz";
const MODE_KEY = "jp-times";
// "2024-05-01T12:34:56.789Z".slice(CLOCK_START, CLOCK_END) is the clock time the server writes.
const CLOCK_START = 11;
const CLOCK_END = 23;
const DATE_TIME_END = 19;

export class Times {
  constructor(log) {
    this.log = log;
    this.local = localStorage.getItem(TZ_KEY) === "local";
    const mode = localStorage.getItem(MODE_KEY);
    this.mode = TIME_MODES.indexOf(mode) >= 0 ? mode : "clock";
    this.started = document.getElementById("started");
    this.startMs = this.started && this.started.dateTime ? Date.parse(this.started.dateTime) : NaN;
    this.tz = document.getElementById("tz");
    this.times = document.getElementById("times");
    this.tz.addEventListener("click", () => this.toggleZone());
    this.times.addEventListener("click", () => this.nextMode());
  }

  // As the server wrote it (UTC clock): no line needs rewriting.
  get asServed() { return !this.local && this.mode === "clock"; }

  firstTime() {
    if (!isNaN(this.startMs)) return this.startMs;
    const first = this.log.getElementsByClassName("l")[0];
    return first ? Date.parse(first.dataset.t) : NaN;
  }

  format(iso) {
    if (this.mode === "off") return "";
    const d = new Date(iso);
    if (isNaN(d)) return "";
    if (this.mode === "relative") return formatRelative(d.getTime(), this.firstTime());
    if (!this.local) return iso.slice(CLOCK_START, CLOCK_END);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
  }

  // A line's time column (data-h is "time identifier"), as the reader chose it.
  setLineTime(el) {
    const h = el.dataset.h || "";
    el.dataset.h = this.format(el.dataset.t || "") + h.slice(h.indexOf(" "));
  }

  // The server writes UTC; rewriting 100,000 lines is only worth it when the view changes.
  apply(relabelLines) {
    if (relabelLines) for (const el of this.log.getElementsByClassName("l")) this.setLineTime(el);
    document.body.classList.toggle("times-off", this.mode === "off");
    this.times.textContent = MODE_WORDS[this.mode];
    this.times.setAttribute("aria-label", "Timestamps: " + MODE_LABELS[this.mode]);
    this.tz.textContent = this.local ? "Local" : "UTC";
    this.tz.setAttribute("aria-pressed", String(this.local));
    const started = this.started;
    if (started && started.dateTime) {
      const d = new Date(started.dateTime);
      started.textContent = this.local ? d.toLocaleString() : started.dateTime.replace("T", " ").slice(0, DATE_TIME_END) + " UTC";
    }
  }

  toggleZone() {
    this.local = !this.local;
    localStorage.setItem(TZ_KEY, this.local ? "local" : "utc");
    this.apply(true);
  }

  nextMode() {
    this.mode = TIME_MODES[(TIME_MODES.indexOf(this.mode) + 1) % TIME_MODES.length];
    localStorage.setItem(MODE_KEY, this.mode);
    this.apply(true);
  }
}
