// Exports (register PDFs): download with a progress bar instead of a silent wait. Falls back
// to the plain link when the browser cannot stream the response.
(function () {
  "use strict";
  document.querySelectorAll("a[data-export]").forEach(function (link) {
    var box = link.parentElement;
    var bar = box.querySelector(".export-progress");
    var status = box.querySelector(".export-status");
    if (!window.fetch || !window.ReadableStream || !bar) { return; }
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var rows = link.getAttribute("data-total") || "";
      bar.hidden = false;
      bar.removeAttribute("value");
      if (status) { status.textContent = "Đang tạo tệp (" + rows + " dòng)…"; }
      fetch(link.href, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        var total = Number(response.headers.get("Content-Length")) || 0;
        var reader = response.body.getReader();
        var chunks = [];
        var received = 0;
        function pump() {
          return reader.read().then(function (step) {
            if (step.done) { return new Blob(chunks, { type: "application/pdf" }); }
            chunks.push(step.value);
            received += step.value.length;
            if (total) { bar.max = total; bar.value = received; }
            if (status) { status.textContent = "Đang tải " + Math.round(received / 1024) + " KB"; }
            return pump();
          });
        }
        return pump();
      }).then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = url;
        a.download = (link.pathname.split("/").pop() || "export.pdf");
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        bar.hidden = true;
        if (status) { status.textContent = "Đã tải xong."; }
      }).catch(function (err) {
        bar.hidden = true;
        if (status) { status.textContent = "Không tải được (" + err.message + "); thử mở liên kết trực tiếp."; }
      });
    });
  });
}());
