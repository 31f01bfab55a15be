// Small progressive enhancements; pages work without JavaScript.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    document.querySelectorAll("details.menu[open]").forEach((d) => d.removeAttribute("open"));
  }
});
