// Small progressive enhancements; every page works without JavaScript.
(() => {
  // Escape closes open menus (Administration, account) and returns focus to their summary.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      menu.removeAttribute("open");
      if (menu.contains(document.activeElement)) menu.querySelector("summary")?.focus();
    });
  });

  // A click outside an open menu closes it.
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // After a form comes back with errors, put the keyboard on the first wrong field.
  document.addEventListener("DOMContentLoaded", () => {
    const invalid = document.querySelector('main [aria-invalid="true"]');
    if (invalid && !document.querySelector("main [autofocus]")) invalid.focus();
  });

  // "Show more": keep the keyboard where the reader was, on the first row just loaded.
  // Matched by request: another request settling meanwhile (a live search, a live update)
  // must neither take the focus move nor cancel it.
  let pendingMore = null;
  document.addEventListener("htmx:beforeRequest", (event) => {
    const more = event.target.closest?.("tr.more");
    if (more) pendingMore = { xhr: event.detail.xhr, lastRow: more.previousElementSibling };
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (!pendingMore || event.detail.xhr !== pendingMore.xhr) return;
    const link = pendingMore.lastRow.nextElementSibling?.querySelector("a");
    pendingMore = null;
    const active = document.activeElement;
    if (link && (!active || active === document.body || !active.isConnected)) link.focus();
  });
})();
