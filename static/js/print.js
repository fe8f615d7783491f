// The "Print" buttons of plate sheets. Wired here because the CSP forbids inline handlers;
// the buttons stay hidden when scripts do not run (the browser's own Print still works).
for (const button of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-print]"))) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
