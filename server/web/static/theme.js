// Runs before the page paints so a stored theme choice never flashes the other theme.
(function () {
  try {
    var stored = localStorage.getItem("aiprism-theme");
    if (stored === "dark" || stored === "light") {
      document.documentElement.setAttribute("data-theme", stored);
    }
  } catch (e) {
    // Storage can be disabled; the system preference then applies.
  }
})();
