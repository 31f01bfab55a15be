// The SMS modal (an htmx-loaded <dialog>) and the composer's live segment counter.
// The counter mirrors hiretext/messaging/segments.py; the server's count is the one charged.
(function () {
  "use strict";
  const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const GSM_EXTENSION = "\f^{}\\[~]|€";
  const BASIC = new Set(GSM_BASIC);
  const EXTENSION = new Set(GSM_EXTENSION);

  function clusters(text) {
    let parts;
    if (typeof Intl !== "undefined" && Intl.Segmenter) {
      parts = Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text), (s) => s.segment);
    } else {
      parts = Array.from(text);
    }
    // Like Twilio's calculator, CR LF counts as two characters.
    return parts.flatMap((p) => (p === "\r\n" ? ["\r", "\n"] : [p]));
  }

  // Twilio's segment builder: the first segment holds `single` units; once split, each part
  // holds `part` and a unit (escape pair, surrogate pair, cluster) is never split.
  function pack(sizes, single, part) {
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total <= single) return 1;
    let segments = 1, used = 0, split = false;
    const first = [];
    for (const size of sizes) {
      const room = (split ? part : single) - used;
      if (size <= room) {
        used += size;
        if (!split) first.push(size);
        continue;
      }
      segments += 1;
      if (!split) {
        split = true;
        let kept = first.reduce((a, b) => a + b, 0), moved = 0;
        while (kept > part) { const last = first.pop(); kept -= last; moved += last; }
        used = moved + size;
      } else {
        used = size;
      }
    }
    return segments;
  }

  function count(text) {
    const chars = Array.from(text);
    const gsm = chars.every((c) => BASIC.has(c) || EXTENSION.has(c));
    if (gsm) {
      const sizes = chars.map((c) => (EXTENSION.has(c) ? 2 : 1));
      const septets = sizes.reduce((a, b) => a + b, 0);
      return { segments: pack(sizes, 160, 153), characters: septets, encoding: "GSM-7" };
    }
    const parts = clusters(text);
    return { segments: pack(parts.map((p) => p.length), 70, 67), characters: parts.length, encoding: "UCS-2" };
  }
  window.hiretextSegments = count;

  function updateCounter(textarea) {
    const output = document.getElementById(textarea.dataset.segmentCounter);
    if (!output) return;
    const c = count(textarea.value.trim());
    output.textContent = `${c.segments} ${c.segments === 1 ? "message" : "messages"} · ${c.characters} ${c.characters === 1 ? "character" : "characters"} · ${c.encoding}`;
  }

  document.addEventListener("input", (event) => {
    const t = event.target;
    if (t instanceof HTMLTextAreaElement && t.dataset.segmentCounter) updateCounter(t);
  });

  function closeModal(dialog) {
    if (dialog.open) dialog.close();
    const root = document.getElementById("modal-root");
    if (root && root.contains(dialog)) root.innerHTML = "";
  }

  document.addEventListener("click", (event) => {
    const closer = event.target instanceof Element && event.target.closest("[data-sms-close]");
    if (closer) closeModal(closer.closest("dialog"));
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const root = event.detail.target;
    if (!(root instanceof Element) || root.id !== "modal-root") return;
    const dialog = root.querySelector("dialog.sms-modal");
    if (!dialog) return;
    dialog.addEventListener("close", () => closeModal(dialog), { once: true });
    if (!dialog.open) dialog.showModal();
    if (dialog.dataset.smsState === "active") {
      document.querySelectorAll(`.sms-icon[data-sms-person="${dialog.dataset.smsPerson}"]`)
        .forEach((b) => { b.dataset.smsState = "active"; });
    }
    const textarea = dialog.querySelector("textarea[data-segment-counter]");
    if (textarea) { updateCounter(textarea); textarea.focus(); }
  });
})();
