// policybot catalogue: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Filters apply as soon as one changes (without JavaScript, the Apply button does it).
  document.querySelectorAll("form.filters select, form.filters input[type=checkbox]")
    .forEach(function (input) {
      input.addEventListener("change", function () {
        var form = input.form;
        // Leave an empty select out of the URL, so a shared link shows only the chosen
        // filters (unticked checkboxes are left out by the browser itself).
        form.querySelectorAll("select").forEach(function (other) {
          other.disabled = other.value === "";
        });
        form.submit();
      });
    });

  // "/" jumps to the search box, as on many sites.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "SELECT" ||
      target.tagName === "TEXTAREA");
    if (event.key === "/" && !typing) {
      var box = document.getElementById("q");
      if (box) { event.preventDefault(); box.focus(); }
    }
  });

  // On the radar, pointing at a name in the legend lights up its point, and the reverse.
  function light(number, on) {
    document.querySelectorAll('[data-point="' + number + '"]').forEach(function (el) {
      el.classList.toggle("lit", on);
    });
  }
  document.querySelectorAll("svg.radar a.point, .radar-legend a[data-point]").forEach(function (el) {
    var number = el.getAttribute("data-point");
    if (!number) { return; }
    ["mouseenter", "focus"].forEach(function (name) {
      el.addEventListener(name, function () { light(number, true); });
    });
    ["mouseleave", "blur"].forEach(function (name) {
      el.addEventListener(name, function () { light(number, false); });
    });
  });
})();
