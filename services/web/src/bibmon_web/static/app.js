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
