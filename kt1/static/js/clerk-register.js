// Registering an envelope: show the subject field only where the dated rule allows it for
// the chosen classification (and the approver only where approval is required), and the
// agreed time only for Hẹn giờ. The server checks all of it again; this only helps.
(function () {
  "use strict";
  var form = document.getElementById("register-form");
  if (!form) { return; }
  var policies = {};
  try { policies = JSON.parse(form.getAttribute("data-policies") || "{}"); } catch (e) { policies = {}; }
  var classification = form.querySelector("select[name=classification]");
  var service = form.querySelector("select[name=service]");
  var subjectBox = form.querySelector(".subject-field");
  var approvalBox = form.querySelector(".approval-field");
  var agreed = form.querySelector("input[name=agreed_at]");

  function toggle(box, visible) {
    if (!box) { return; }
    box.classList.toggle("is-hidden", !visible);
    box.querySelectorAll("input, textarea, select").forEach(function (el) { el.disabled = !visible; });
  }

  function update() {
    var policy = classification ? policies[classification.value] : "forbidden";
    toggle(subjectBox, policy === "allowed" || policy === "approval_required");
    toggle(approvalBox, policy === "approval_required");
    if (agreed) {
      var box = agreed.closest(".field");
      toggle(box, service && service.value === "timed");
    }
  }

  if (classification) { classification.addEventListener("change", update); }
  if (service) { service.addEventListener("change", update); }
  update();
}());
