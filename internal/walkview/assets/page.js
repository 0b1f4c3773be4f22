// addrwalk walk pictures: click any part of a drawing to read its details.
// No network access: everything this page needs is in the file.
(function () {
  "use strict";
  var panel = document.getElementById("details");
  function show(el) {
    var t = el.querySelector(":scope > title");
    if (!t || !panel) { return; }
    var prev = document.querySelector(".walkview .selected");
    if (prev) { prev.classList.remove("selected"); }
    el.classList.add("selected");
    panel.textContent = t.textContent;
    panel.hidden = false;
  }
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest(".walkview g") : null;
    while (el && !el.querySelector(":scope > title")) {
      el = el.parentElement ? el.parentElement.closest(".walkview g") : null;
    }
    if (el) { show(el); }
  });
  var nav = document.getElementById("toc");
  if (nav) {
    nav.addEventListener("change", function () {
      var t = document.getElementById(nav.value);
      if (t) { t.scrollIntoView({behavior: "smooth"}); }
    });
  }
})();
