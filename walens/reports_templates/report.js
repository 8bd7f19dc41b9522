(function () {
  "use strict";
  // Enhancement only: filters, search and expand/collapse. Without JavaScript every finding is shown.
  var bar = document.getElementById("toolbar");
  if (!bar || !document.querySelectorAll) { return; }
  var rules = Array.prototype.slice.call(document.querySelectorAll("#findings details.rule"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("#findings .finding-group"));
  var severities = Array.prototype.slice.call(bar.querySelectorAll("input[name=severity]"));
  var pillar = document.getElementById("filter-pillar");
  var search = document.getElementById("filter-search");
  var count = document.getElementById("filter-count");
  var template = count ? count.getAttribute("data-template") || "" : "";

  function text(node) { return (node.textContent || "").toLowerCase(); }

  function apply() {
    var wanted = {};
    severities.forEach(function (box) { wanted[box.value] = box.checked; });
    var p = pillar ? pillar.value : "";
    var q = search ? search.value.trim().toLowerCase() : "";
    var shown = 0;
    rules.forEach(function (rule) {
      var ok = wanted[rule.getAttribute("data-severity")] !== false &&
        (!p || rule.getAttribute("data-pillar") === p);
      var rows = Array.prototype.slice.call(rule.querySelectorAll("tbody tr"));
      if (ok && q) {
        var head = text(rule.querySelector("summary")).indexOf(q) >= 0;
        var any = head;
        rows.forEach(function (row) {
          var match = head || text(row).indexOf(q) >= 0;
          row.hidden = !match;
          any = any || match;
        });
        ok = any;
        if (ok) { rule.open = true; }
      } else {
        rows.forEach(function (row) { row.hidden = false; });
      }
      rule.hidden = !ok;
      if (ok) { shown += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector("details.rule:not([hidden])");
    });
    if (count) {
      count.textContent = template.replace("{shown}", String(shown)).replace("{total}", String(rules.length));
    }
  }

  function setOpen(open) { rules.forEach(function (rule) { rule.open = open; }); }

  severities.forEach(function (box) { box.addEventListener("change", apply); });
  if (pillar) { pillar.addEventListener("change", apply); }
  if (search) { search.addEventListener("input", apply); }
  var expand = document.getElementById("expand-all");
  var collapse = document.getElementById("collapse-all");
  if (expand) { expand.addEventListener("click", function () { setOpen(true); }); }
  if (collapse) { collapse.addEventListener("click", function () { setOpen(false); }); }
  // A printed report shows everything that is not filtered out.
  window.addEventListener("beforeprint", function () { setOpen(true); });
  bar.hidden = false;
  document.documentElement.setAttribute("data-js", "ready");
  apply();
})();
