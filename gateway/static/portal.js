// Clinician portal: small progressive enhancements (served from 'self'; the pages work without them).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // Original narratives are folded on screen; on paper every one is shown.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.narrative").forEach(function (d) { d.open = true; });
  });
})();
