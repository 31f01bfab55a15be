// Live updates: one EventSource per page (started once the bell has loaded), the bell's
// count, the inbox widget, and refresh signals for the chat panel's list and open thread.
// Event data is JSON and only ever read as numbers and ids; the HTML comes from the server.
(() => {
  "use strict";
  let source = null;

  const bell = () => document.querySelector("#inbox-bell .bell");
  const menu = () => document.getElementById("inbox-menu");

  // Returns whether the count changed.
  function setCount(n) {
    const b = bell();
    if (!b || !Number.isInteger(n) || n < 0) return false;
    const changed = b.dataset.unread !== String(n);
    b.dataset.unread = String(n);
    const count = b.querySelector(".count");
    count.textContent = String(n);
    count.hidden = n === 0;
    b.setAttribute("aria-label", `Notifications: ${n} unread conversation${n === 1 ? "" : "s"}`);
    return changed;
  }

  function refreshWidget() {
    const m = menu();
    if (m && m.open && window.htmx) window.htmx.ajax("GET", m.dataset.widgetUrl, "#inbox-widget");
  }

  function fire(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { detail }));
  }

  function onEvent(event) {
    let data;
    try { data = JSON.parse(event.data); } catch { return; }
    if (!data || typeof data !== "object") return;
    const changed = setCount(data.unread);
    // A "state" event comes with every (re)connection: only a new count is news.
    if (data.kind === "state" && !changed) return;
    refreshWidget();
    fire("inbox-refresh", data);
    if (Number.isInteger(data.conversation_id) && (data.kind === "message" || data.kind === "status")) {
      fire(`inbox-thread-${data.conversation_id}`, data);
    }
  }

  function start() {
    const b = bell();
    if (source || !b || !window.EventSource) return;
    const url = new URL(b.dataset.streamUrl, window.location.href);
    if (b.dataset.lastEventId) url.searchParams.set("after", b.dataset.lastEventId);
    source = new EventSource(url, { withCredentials: url.origin !== window.location.origin });
    for (const kind of ["message", "status", "read", "state"]) source.addEventListener(kind, onEvent);
    source.addEventListener("open", () => document.documentElement.dataset.inboxLive = "open");
    source.addEventListener("error", () => {
      document.documentElement.dataset.inboxLive = source.readyState === EventSource.CLOSED ? "closed" : "reconnecting";
    });
  }

  // The chat list marks the conversation shown in the pane (also after a live refresh).
  function markSelected() {
    const pane = document.querySelector("#chat-pane .chat-conversation");
    const id = pane ? pane.dataset.conversationId : "";
    document.querySelectorAll("#chat-list a[data-conversation-id]").forEach((a) => {
      if (id && a.dataset.conversationId === id) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id === "inbox-bell") start();
    if (target && (target.id === "chat-pane" || target.id === "chat-list")) markSelected();
  });
  // Opening the bell loads the widget's list.
  document.addEventListener("toggle", (event) => {
    if (event.target && event.target.id === "inbox-menu" && event.target.open) refreshWidget();
  }, true);
  window.addEventListener("pagehide", () => { if (source) { source.close(); source = null; } });
})();
