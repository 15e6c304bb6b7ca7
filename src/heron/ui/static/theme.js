// Applies the saved theme before the page paints (no flash of the wrong colours).
(function () {
  try {
    var saved = localStorage.getItem("heron-theme");
    if (saved === "dark" || saved === "light") document.documentElement.dataset.theme = saved;
  } catch (e) { /* storage may be off: follow the system setting */ }
})();
