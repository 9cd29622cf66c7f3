// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Password links carry their token in the fragment (#token=…), which browsers never
  // send to a server. Copy it into the form, hide the paste field and clear the address
  // bar, so the token does not stay in the history.
  function fillToken() {
    var holder = document.querySelector("[data-token-field]");
    if (!holder) {
      return;
    }
    var input = holder.querySelector("input[name=token]");
    var match = /[#&]token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
    if (match && input) {
      input.value = match[1];
      holder.hidden = true;
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    } else if (holder.hasAttribute("data-token-filled")) {
      holder.hidden = true;
    }
  }

  // After a full-page form post with errors, take keyboard and screen reader users to
  // the summary of what to fix.
  function focusErrors() {
    var summary = document.getElementById("foutoverzicht");
    if (summary && !window.location.hash) {
      summary.focus();
    }
  }

  // Autosave feedback while htmx sends the form.
  function savingState() {
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      var status = document.getElementById("opslaan-status");
      var form = event.target.closest ? event.target.closest("form") : null;
      if (status && form && form.dataset.savingText) {
        status.textContent = form.dataset.savingText;
      }
    });
    document.body.addEventListener("htmx:responseError", function (event) {
      var status = document.getElementById("opslaan-status");
      var form = event.target.closest ? event.target.closest("form") : null;
      if (status && form && form.dataset.errorText) {
        status.textContent = form.dataset.errorText;
      }
    });
    document.body.addEventListener("htmx:sendError", function (event) {
      var status = document.getElementById("opslaan-status");
      var form = event.target.closest ? event.target.closest("form") : null;
      if (status && form && form.dataset.errorText) {
        status.textContent = form.dataset.errorText;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    fillToken();
    focusErrors();
    savingState();
  });
})();

// The researchers' builder: after htmx replaced it, keyboard focus goes back to the part
// that was just changed (or to the error summary), named by the server in data-focus.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.body.addEventListener("htmx:afterSettle", function () {
      var holder = document.querySelector("[data-focus]");
      if (!holder) {
        return;
      }
      var target = document.getElementById(holder.getAttribute("data-focus"));
      holder.removeAttribute("data-focus");
      if (target) {
        if (!target.hasAttribute("tabindex")) {
          target.setAttribute("tabindex", "-1");
        }
        target.focus();
      }
    });
  });
})();
