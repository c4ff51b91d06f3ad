/* Big Five test: paging, progress bar and answers kept in localStorage (the form works without this file).
   On the report page: clears the saved answers after a successful submit, and copies the share link. */
(function () {
  "use strict";
  var KEY = "fr.bigfive.v1";

  function storage() {
    try { var s = window.localStorage; s.setItem(KEY + ".t", "1"); s.removeItem(KEY + ".t"); return s; }
    catch (e) { return null; }
  }

  function reportPage(report) {
    if (window.location.hash === "#submitted") {
      var s = storage();
      if (s) { s.removeItem(KEY); }
      if (window.history && history.replaceState) { history.replaceState(null, "", location.pathname + location.search); }
    }
    var copy = report.querySelector("[data-copy]");
    var status = report.querySelector("[data-copy-status]");
    if (copy) {
      copy.addEventListener("click", function () {
        var input = document.querySelector(copy.getAttribute("data-copy"));
        var done = function () { if (status) { status.textContent = "Link copied."; } };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
        } else {
          input.select();
          try { document.execCommand("copy"); done(); } catch (e) { /* selected: the person can copy */ }
        }
      });
    }
    var printButton = report.querySelector("[data-print]");
    if (printButton && window.print) {
      printButton.hidden = false;
      printButton.addEventListener("click", function () { window.print(); });
    }
  }

  function testPage(form) {
    var s = storage();
    var perPage = parseInt(form.getAttribute("data-items-per-page"), 10) || 10;
    var items = Array.prototype.slice.call(form.querySelectorAll("[data-item]"));
    var about = form.querySelector("[data-page]");
    var intro = form.querySelector(".bf-instructions");
    var pages = [[about]];
    for (var i = 0; i < items.length; i += perPage) { pages.push(items.slice(i, i + perPage)); }
    var current = 0;
    var warnedPage = -1;  // the page whose unanswered statements were just pointed out: Next goes on
    var progress = form.querySelector("[data-progress]");
    var bar = form.querySelector("[data-progress-bar]");
    var count = form.querySelector("[data-progress-count]");
    var pageNumber = form.querySelector("[data-page-number]");
    var pageTotal = form.querySelector("[data-page-total]");
    var nav = form.querySelector("[data-nav]");
    var prev = form.querySelector("[data-prev]");
    var next = form.querySelector("[data-next]");
    var submitRow = form.querySelector("[data-submit-row]");
    var message = form.querySelector("[data-message]");
    var started = form.querySelector("input[name=started]");

    function answered(item) { return !!item.querySelector("input[type=radio]:checked"); }

    function save() {
      if (!s) { return; }
      var state = { page: current, values: {}, started: started ? started.value : "" };
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.type === "hidden" || el.type === "submit" || el.type === "button") { return; }
        if (el.type === "radio") { if (el.checked) { state.values[el.name] = el.value; } }
        else if (el.type === "checkbox") { state.values[el.name] = el.checked; }
        else { state.values[el.name] = el.value; }
      });
      try { s.setItem(KEY, JSON.stringify(state)); } catch (e) { /* storage full: nothing to do */ }
    }

    function restore() {
      if (!s) { return 0; }
      var state;
      try { state = JSON.parse(s.getItem(KEY) || "null"); } catch (e) { state = null; }
      if (!state || !state.values) { return 0; }
      // The test started when it was first opened, not at this reload: keep the first start time.
      if (started && state.started) { started.value = state.started; }
      Object.keys(state.values).forEach(function (name) {
        var value = state.values[name];
        var fields = form.querySelectorAll("[name=\"" + name.replace(/"/g, "") + "\"]");
        if (!fields.length) { return; }
        var first = fields[0];
        if (first.type === "radio") {
          // Restore unless the person already chose something on this page load (a server default may be checked).
          var chosen = Array.prototype.some.call(fields, function (f) { return f.checked && !f.defaultChecked; });
          if (!chosen) {
            Array.prototype.forEach.call(fields, function (f) { if (f.value === String(value)) { f.checked = true; } });
          }
        } else if (first.type === "checkbox") {
          if (!first.checked && value === true) { first.checked = true; }
        } else if (!first.value) {
          first.value = value;
        }
      });
      return typeof state.page === "number" ? state.page : 0;
    }

    function setProgress(done) {
      // An SVG attribute, not a style: the Content-Security-Policy allows no inline style.
      var rect = bar.querySelector("rect");
      if (rect) { rect.setAttribute("width", String(Math.round(100 * done / items.length))); }
      count.textContent = done;
    }

    function update() {
      setProgress(items.filter(answered).length);
      items.forEach(function (item) {
        if (answered(item)) { mark(item, false); }
      });
    }

    function mark(item, missing) {
      item.classList.toggle("is-unanswered", missing);
      Array.prototype.forEach.call(item.querySelectorAll("input[type=radio]"), function (radio) {
        if (missing) { radio.setAttribute("aria-invalid", "true"); } else { radio.removeAttribute("aria-invalid"); }
      });
    }

    function show(index, focus) {
      current = Math.max(0, Math.min(index, pages.length - 1));
      pages.forEach(function (page, p) {
        page.forEach(function (el) { el.hidden = p !== current; });
      });
      if (intro) { intro.hidden = current === 0; }
      prev.disabled = current === 0;
      next.hidden = current === pages.length - 1;
      submitRow.hidden = current !== pages.length - 1;
      pageNumber.textContent = current + 1;
      if (focus) {
        var target = pages[current][0];
        var heading = target.querySelector("legend") || target;
        target.scrollIntoView({ block: "start" });
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
      }
    }

    function hideMessage() {
      message.hidden = true;
      message.textContent = "";
    }

    // Say what is missing right above the first unanswered statement, highlight every unanswered one,
    // bring them into view and put the keyboard on the first one.
    function pointOut(missing, text) {
      missing.forEach(function (item) { mark(item, true); });
      var first = missing[0];
      show(pageOf(first), false);
      first.parentNode.insertBefore(message, first);
      message.textContent = text;
      message.hidden = false;
      message.scrollIntoView({ block: "start" });
      var radio = first.querySelector("input[type=radio]");
      if (radio) { radio.focus({ preventScroll: true }); }
    }

    function pageOf(el) {
      for (var p = 0; p < pages.length; p++) { if (pages[p].indexOf(el) !== -1) { return p; } }
      return 0;
    }

    function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

    form.classList.add("bf-paged");
    progress.hidden = false;
    nav.hidden = false;
    pageTotal.textContent = pages.length;
    var savedPage = restore();
    update();
    var firstError = form.querySelector(".field-invalid");
    if (firstError) {
      // The server refused the test (no JavaScript check ran, or a field is invalid): same guidance.
      var missing = items.filter(function (item) { return !answered(item); });
      var holder = firstError.closest("[data-item]");
      if (holder && missing.length) {
        pointOut(missing, plural(missing.length, "statement is", "statements are") + " still unanswered. " +
          "They are highlighted; this is the first one.");
      } else {
        show(holder ? pageOf(holder) : 0, false);
        var summary = document.getElementById("form-errors");
        if (summary) { summary.scrollIntoView({ block: "start" }); summary.focus({ preventScroll: true }); }
      }
    } else {
      show(savedPage, false);
    }

    prev.addEventListener("click", function () { hideMessage(); show(current - 1, true); save(); });
    next.addEventListener("click", function () {
      var missing = current === 0 ? [] : pages[current].filter(function (item) { return !answered(item); });
      if (missing.length && warnedPage !== current) {
        warnedPage = current;
        pointOut(missing, plural(missing.length, "statement", "statements") + " on this page " +
          (missing.length === 1 ? "is" : "are") + " not answered yet (highlighted). Answer " +
          (missing.length === 1 ? "it" : "them") + " now, or press Next again to go on and come back later.");
        return;
      }
      warnedPage = -1;
      hideMessage();
      show(current + 1, true);
      save();
    });
    form.addEventListener("change", function () { update(); save(); });
    form.addEventListener("input", function () { save(); });
    form.addEventListener("submit", function (event) {
      save();
      var missing = items.filter(function (item) { return !answered(item); });
      if (missing.length) {
        event.preventDefault();
        pointOut(missing, missing.length + " of " + items.length + " statements are still unanswered. " +
          "They are highlighted; this is the first one.");
      }
    });
  }

  var report = document.querySelector("[data-bigfive-report]");
  if (report) { reportPage(report); }
  var form = document.getElementById("bigfive-form");
  if (form) { testPage(form); }
})();
