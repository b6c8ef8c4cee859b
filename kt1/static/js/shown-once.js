// A page that shows a secret once (a badge code, a password) answered a POST: put the
// page's own address in the address bar, so that reloading asks for that page again
// (without the secret and without what was typed) instead of sending the form twice.
(function () {
  "use strict";
  var marker = document.querySelector("[data-clean-url]");
  if (marker && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", marker.getAttribute("data-clean-url"));
  }
})();
