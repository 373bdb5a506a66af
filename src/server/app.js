// Comfort for the editor UI; every form also works without this script.
"use strict";
(function () {
  // Grow summary boxes with their text and show its length.
  function fit(area) {
    area.style.height = "auto";
    area.style.height = area.scrollHeight + 2 + "px";
    var count = area.form && area.form.querySelector(".count");
    if (count) count.textContent = Array.from(area.value).length + " 字";
  }
  document.querySelectorAll(".edit-form textarea").forEach(function (area) {
    area.addEventListener("input", function () { fit(area); });
  });
  document.querySelectorAll("details.edit").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (!details.open) return;
      var area = details.querySelector("textarea");
      if (area) fit(area);
      var first = details.querySelector("input[name=title]");
      if (first) first.focus();
    });
    details.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        details.open = false;
        details.querySelector("summary").focus();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        var form = details.querySelector("form");
        if (form) form.requestSubmit();
      }
    });
  });
  // One click per action: a double click must not move an item twice.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
