// Errors: counted in the header, next/previous with the buttons or e / Shift+E.  From the top, e
// goes to the cause first (Shift+E to the error before it); then both walk every error in log
// order.  The counts follow live lines by the "jp:problems" event.
import { plural } from "./durations.js";

export class Errors {
  constructor(log, triage, goToLine) {
    Object.assign(this, { triage, goToLine, pos: -1 });
    this.counts = document.getElementById("counts");
    if (!this.counts) return;
    this.counts.after(
      this.button("prev-error", "Previous error (Shift+E)", "↑", -1),
      this.button("next-error", "Next error (e)", "↓", 1));
    this.show();
    log.addEventListener("jp:problems", () => this.show());
  }

  button(id, label, text, dir) {
    const b = document.createElement("button");
    b.type = "button";
    b.id = id;
    b.textContent = text;
    b.title = label;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", () => this.next(dir));
    return b;
  }

  show() {
    if (!this.counts) return;
    const e = this.triage.count("errors"), w = this.triage.count("warnings");
    this.counts.textContent = plural(e, "error") + ", " + plural(w, "warning");
    this.counts.classList.toggle("has-errors", e > 0);
    for (const id of ["prev-error", "next-error"]) {
      const b = document.getElementById(id);
      if (b) b.disabled = this.triage.errorLines.length === 0;
    }
  }

  next(dir) {
    const lines = this.triage.errorLines, count = lines.length;
    if (!count) return;
    const cause = this.triage.causeLine ? lines.indexOf(this.triage.causeLine) : -1;
    if (this.pos < 0 && cause >= 0) this.pos = dir > 0 ? cause : (cause - 1 + count) % count;
    else this.pos = this.pos < 0 && dir < 0 ? count - 1 : (this.pos + dir + count) % count;
    this.goToLine(lines[this.pos]);
    if (this.counts) this.counts.textContent = "Error " + (this.pos + 1) + " of " + count;
  }
}
