/* Blog engagement widget: sends the vote with fetch and updates the counts (falls back to the plain form). */
(function () {
  "use strict";
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-blog-widget]"), function (widget) {
    var form = widget.querySelector("form");
    var status = widget.querySelector("[data-widget-status]");
    var slug = widget.getAttribute("data-post-slug");
    function render(summary) {
      Object.keys(summary.counts).forEach(function (type) {
        var el = widget.querySelector("[data-count=\"" + type + "\"]");
        if (el) { el.textContent = summary.counts[type]; }
      });
      Array.prototype.forEach.call(widget.querySelectorAll("button[name=engagement_type]"), function (b) {
        var chosen = summary.mine.indexOf(b.value) !== -1;
        b.classList.toggle("is-chosen", chosen);
        b.setAttribute("aria-pressed", chosen ? "true" : "false");
      });
    }
    form.addEventListener("submit", function (event) {
      var type = event.submitter && event.submitter.value;
      if (!type || !window.fetch) { return; }
      event.preventDefault();
      var feedback = form.querySelector("[name=feedback_text]").value.trim();
      var body = { post_slug: slug, engagement_type: type };
      if (type === "helpful_no" && feedback) { body.feedback_text = feedback; }
      fetch(widget.getAttribute("data-endpoint"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
      }).then(function (r) {
        if (!r.ok) {
          var fields = (r.data.error && r.data.error.fields) || {};
          var first = Object.keys(fields)[0];
          status.textContent = first ? fields[first][0] : "Sorry, that did not work.";
          return;
        }
        status.textContent = r.status === 201 ? "Thanks for your feedback!" : "You already told us — thanks!";
        return fetch(widget.getAttribute("data-summary-endpoint") + "?post_slug=" + encodeURIComponent(slug), {
          credentials: "same-origin"
        }).then(function (resp) { return resp.json(); }).then(render);
      }).catch(function () { status.textContent = "Network error: please try again."; });
    });
  });
})();
