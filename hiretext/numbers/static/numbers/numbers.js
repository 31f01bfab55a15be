// Confirmation links open their <dialog> when JavaScript runs; without it they lead to a page.
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[data-dialog]");
  if (!link) return;
  const dialog = document.getElementById(link.dataset.dialog);
  if (!dialog || typeof dialog.showModal !== "function") return;
  event.preventDefault();
  dialog.showModal();
});
