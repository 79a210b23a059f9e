// journal-proxy log page: the modules in js/, wired together.  Log text is only ever set with
// textContent, never as HTML.  Modules share no variables: each gets what it needs here, and
// they tell each other what happened by events on the log element ("jp:fold", "jp:jump",
// "jp:line", "jp:problems", "jp:ended").
import { Anchors, parseHash } from "./js/anchors.js";
import { Chunks } from "./js/chunks.js";
import { Errors } from "./js/errors.js";
import { LineCursor, setUpPageKeys } from "./js/keyboard.js";
import { Live } from "./js/live.js";
import { Search } from "./js/search.js";
import { Status } from "./js/status.js";
import { showSummary } from "./js/summary.js";
import { Tail } from "./js/tail.js";
import { Times } from "./js/time.js";
import { Triage } from "./js/triage.js";
import { setUpWrap } from "./js/wrap.js";

function main() {
  const log = document.getElementById("log");
  const state = document.body.dataset.state;
  const triage = new Triage(log, document.getElementById("triage"), state);
  const times = new Times(log);
  let search = null;  // made below: lines are only built after this function returns
  const chunks = new Chunks(log, {
    folded: (n) => triage.folded(n),
    prepare: (el) => (search ? search.mark(triage.prepare(el)) : triage.prepare(el)),
    stepHeader: (n, first, name) => triage.stepHeader(n, first, name),
    lineTime: (el) => { if (!times.asServed) times.setLineTime(el); },
  });
  chunks.placeChunks();
  triage.prepareBuilt();
  const anchors = new Anchors(log, triage, chunks);
  const goToLine = (n) => anchors.goToLine(n);
  const errors = new Errors(log, triage, goToLine);
  setUpWrap();
  new LineCursor(log, { chunks, triage, anchors });
  search = new Search(log, { chunks, triage, goToLine });
  setUpPageKeys(search.box, (dir) => errors.next(dir));
  const running = state === "running";
  const tail = new Tail(log, chunks, { live: running, following: running && !parseHash(location.hash) });
  times.apply(!times.asServed);
  showSummary(log, triage, (n) => chunks.peekLine(n));
  anchors.highlight(true);
  if (!running) return;
  const status = new Status(times.startMs);
  status.set({ state: "running", description: status.badge.textContent, unit: status.unit });
  if (tail.following) tail.toBottom();
  const prepare = (el) => search.mark(triage.prepare(el));
  new Live(log, { triage, status, prepare, formatTime: (iso) => times.format(iso), lastLine: chunks.lastLine() }).follow();
}

main();
