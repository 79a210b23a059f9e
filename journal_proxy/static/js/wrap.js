// Wrap on or off, remembered in this browser.  With it off the page scrolls sideways, and the
// header keeps the window's width (style.css, --vw).
const WRAP_KEY = "jp-wrap";

function windowWidth() {
  document.documentElement.style.setProperty("--vw", document.documentElement.clientWidth + "px");
}

export function setUpWrap() {
  const btn = document.getElementById("wrap");
  const setWrap = (wrap) => {
    document.body.classList.toggle("nowrap", !wrap);
    btn.setAttribute("aria-pressed", String(wrap));
    windowWidth();
  };
  window.addEventListener("resize", windowWidth);
  setWrap(localStorage.getItem(WRAP_KEY) !== "off");
  btn.addEventListener("click", () => {
    const wrap = document.body.classList.contains("nowrap");
    localStorage.setItem(WRAP_KEY, wrap ? "on" : "off");
    setWrap(wrap);
  });
}
