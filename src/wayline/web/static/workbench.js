// Single-key shortcuts for the workbench (/workbench). The pages work without this script;
// with it, a handler moves through a list of cases and a case's sections without the mouse:
//   j / k   next / previous case in a list, or next / previous section of a case
//   a       a case's actions        f   the list's filters        q   the queues
// Keys act only when no field has focus and no modifier is held, and never press a button.
// The help at the foot of each page lists them, with a switch to turn them off (WCAG 2.1.4),
// remembered in this browser.
(function () {
  "use strict";
  var STORE = "wayline.workbench.shortcuts";

  function enabled() {
    try { return window.localStorage.getItem(STORE) !== "off"; } catch (e) { return true; }
  }

  function remember(on) {
    try { window.localStorage.setItem(STORE, on ? "on" : "off"); } catch (e) { /* private mode */ }
  }

  function setupHelp() {
    var help = document.querySelector("[data-shortcuts-help]");
    var toggle = document.querySelector("[data-shortcuts-switch]");
    if (!help || !toggle) return;
    help.hidden = false;
    function show() {
      var on = enabled();
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? "Single-key shortcuts on" : "Single-key shortcuts off";
    }
    toggle.addEventListener("click", function () { remember(!enabled()); show(); });
    show();
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable]");
  }

  function focusOn(element) {
    if (!element) return;
    element.focus();
    element.scrollIntoView({ block: "nearest" });
  }

  // The items j and k move between: the case links of a list, or a case page's sections.
  function items() {
    var links = document.querySelectorAll("[data-row-link]");
    if (links.length) return Array.prototype.slice.call(links);
    return Array.prototype.slice.call(document.querySelectorAll("[data-section]"));
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var active = document.activeElement;
    var at = -1;
    list.forEach(function (item, index) {
      if (item === active || (active && item.contains(active))) at = index;
    });
    if (at < 0 && step < 0) at = list.length;
    var next = list[Math.min(Math.max(at + step, 0), list.length - 1)];
    document.querySelectorAll(".row-current").forEach(function (row) { row.classList.remove("row-current"); });
    var row = next.closest("[data-row]");
    if (row) row.classList.add("row-current");
    focusOn(next);
  }

  var KEYS = {
    j: function () { move(1); },
    k: function () { move(-1); },
    a: function () { focusOn(document.getElementById("actions")); },
    f: function () { focusOn(document.querySelector("#filters select, #filters input")); },
    q: function () { window.location.assign("/workbench"); }
  };

  document.addEventListener("keydown", function (event) {
    if (!enabled() || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    if (typing(event.target)) return;
    var act = KEYS[event.key];
    if (!act) return;
    event.preventDefault();
    act();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupHelp);
  } else {
    setupHelp();
  }
})();
