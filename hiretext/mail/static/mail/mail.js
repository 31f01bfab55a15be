// The composer's channel toggle (SMS / E-mail): the subject and the "Rejection" kind only for
// e-mail, the segment counter only for SMS, and the body's length limit of the channel.
(function () {
  "use strict";

  function apply(form) {
    const checked = form.querySelector('input[name="channel"]:checked');
    if (!checked) return;
    const channel = checked.value;
    form.dataset.channel = channel;
    form.querySelectorAll("[data-channel-only]").forEach((el) => {
      const off = el.dataset.channelOnly !== channel;
      el.hidden = off;
      if ("disabled" in el) el.disabled = off;
      el.querySelectorAll("input, select, textarea").forEach((field) => { field.disabled = off; });
    });
    const category = form.querySelector('select[name="category"]');
    if (category && category.selectedOptions[0] && category.selectedOptions[0].disabled) category.value = "general";
    const body = form.querySelector("textarea[name=body]");
    if (body) body.maxLength = Number(channel === "email" ? body.dataset.emailMaxlength : body.dataset.smsMaxlength);
  }

  document.addEventListener("change", (event) => {
    const t = event.target;
    if (t instanceof HTMLInputElement && t.name === "channel") {
      const form = t.closest("form[data-composer]");
      if (form) {
        apply(form);
        const subject = form.querySelector('input[name="subject"]');
        if (t.value === "email" && subject && !subject.value) subject.focus();
      }
    }
  });

  function init(root) {
    root.querySelectorAll("form[data-composer]").forEach(apply);
  }
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSwap", (event) => { if (event.detail.target instanceof Element) init(event.detail.target); });
})();
