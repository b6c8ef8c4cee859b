// Passing a document on inside the unit: for direction (trình lãnh đạo cho ý kiến chỉ đạo)
// only the heads of the unit may receive it, so the others are greyed out while that purpose
// is chosen. The server judges it again; this only helps.
(function () {
  "use strict";
  var form = document.getElementById("circulate-form");
  if (!form) { return; }
  var purpose = form.querySelector("select[name=purpose]");
  var receiver = form.querySelector("select[name=receiver]");
  if (!purpose || !receiver) { return; }
  var headsLabel = form.getAttribute("data-heads") || "";

  function update() {
    var direction = purpose.value === "circulated_for_direction";
    receiver.querySelectorAll("optgroup").forEach(function (group) {
      var off = direction && group.getAttribute("label") !== headsLabel;
      group.disabled = off;
      if (off && group.contains(receiver.options[receiver.selectedIndex])) {
        receiver.value = "";
      }
    });
  }

  purpose.addEventListener("change", update);
  update();
}());
