// A failed run opens with why: the failed step, the status, the cause and the errors before it
// (the server's choice, #triage's data-shown), or without a cause the errors there are and the
// last lines before systemd's failure line.

// Characters of a line the summary shows.
const SUMMARY_TEXT_MAX = 500;
// Errors listed when no cause was found.
const ERRORS_LISTED = 8;
// Lines shown before systemd's failure line when no cause was found.
const LINES_BEFORE_FAILURE = 5;

function summaryLine(peekLine, n, list) {
  const el = peekLine(n);
  if (!el || el.classList.contains("gm")) return;
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = "#L" + n;
  a.textContent = "Line " + n;
  const text = document.createElement("span");
  text.className = el.classList.contains("e") ? "st e" : el.classList.contains("ec") ? "st ec" : "st";
  text.textContent = el.textContent.slice(0, SUMMARY_TEXT_MAX);
  li.append(a, " ", text);
  list.appendChild(li);
}

function causeLists(triage, peekLine, box) {
  const cause = document.createElement("ol");
  cause.className = "cause";
  const others = document.createElement("ol");
  for (const n of triage.summaryLines) {
    summaryLine(peekLine, n, n >= triage.causeLine && n <= triage.causeLast ? cause : others);
  }
  box.appendChild(cause);
  if (others.childElementCount) {
    const p = document.createElement("p");
    p.textContent = "Errors before it:";
    box.append(p, others);
  }
}

function withoutCause(triage, peekLine, box) {
  const errors = document.createElement("ol");
  const listed = triage.errorLines.slice(0, ERRORS_LISTED);
  for (const n of listed) summaryLine(peekLine, n, errors);
  box.appendChild(errors);
  const failLine = triage.errorLines.find((n) => {
    const el = peekLine(n);
    return el && el.classList.contains("sys");
  }) || 0;
  if (failLine <= 1) return;
  const p = document.createElement("p");
  p.textContent = "Last lines before the failure:";
  const tail = document.createElement("ol");
  const seen = new Set(listed);
  for (let n = Math.max(1, failLine - LINES_BEFORE_FAILURE); n < failLine; n++) if (!seen.has(n)) summaryLine(peekLine, n, tail);
  if (tail.childElementCount) box.append(p, tail);
}

export function showSummary(log, triage, peekLine) {
  if (document.body.dataset.state !== "failed" || !triage.nav) return;
  const box = document.createElement("section");
  box.id = "summary";
  box.setAttribute("aria-label", "Why it failed");
  const h = document.createElement("h2");
  const step = triage.step(triage.failedStep);
  const status = document.getElementById("status").textContent;
  h.textContent = (step ? "Failed in step " + step.n + ": " + step.name : "Failed") + " (" + status + ")";
  box.appendChild(h);
  if (triage.causeLine) causeLists(triage, peekLine, box);
  else withoutCause(triage, peekLine, box);
  log.before(box);
}
