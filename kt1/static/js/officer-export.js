// Register exports: say that the file is being prepared (the server builds it whole, so
// that wait has no percentage), then show the download's real progress, then save it.
// Without fetch or streams the links simply download.
(function () {
  "use strict";
  var box = document.querySelector(".export");
  if (!box || !window.fetch || !window.ReadableStream || !window.URL) { return; }
  var bar = box.querySelector(".export-progress");
  var status = box.querySelector(".export-status");
  function say(text) { status.textContent = text; }
  box.querySelectorAll("a[data-export]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      box.setAttribute("aria-busy", "true");
      bar.hidden = false;
      bar.removeAttribute("value");
      say(box.getAttribute("data-preparing"));
      fetch(link.href, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        var total = Number(response.headers.get("Content-Length")) || 0;
        var name = (response.headers.get("Content-Disposition") || "").replace(/^.*filename="([^"]+)".*$/, "$1");
        var reader = response.body.getReader();
        var chunks = [];
        var received = 0;
        say(box.getAttribute("data-loading"));
        function pump() {
          return reader.read().then(function (step) {
            if (step.done) {
              return { blob: new Blob(chunks, { type: response.headers.get("Content-Type") || "" }), name: name };
            }
            chunks.push(step.value);
            received += step.value.length;
            if (total) { bar.max = total; bar.value = received; }
            return pump();
          });
        }
        return pump();
      }).then(function (file) {
        var url = URL.createObjectURL(file.blob);
        var a = document.createElement("a");
        a.href = url;
        a.download = file.name || "export";
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        bar.hidden = true;
        box.removeAttribute("aria-busy");
        say(box.getAttribute("data-done"));
      }).catch(function (err) {
        bar.hidden = true;
        box.removeAttribute("aria-busy");
        say(box.getAttribute("data-failed") + " (" + err.message + ")");
      });
    });
  });
}());
