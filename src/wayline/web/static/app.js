// Progressive enhancement for Wayline pages. Everything works without this script; with it,
// answers autosave as the customer types, files upload several at a time with a status each,
// the error summary takes focus, and fields revealed by a choice show only when it is chosen.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var token = csrf ? csrf.getAttribute("content") : "";

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a");
      if (!link || link.hash.length < 2) return;
      var input = document.getElementById(link.hash.slice(1));
      if (!input) return;
      event.preventDefault();
      var legend = input.closest("fieldset") ? input.closest("fieldset").querySelector("legend") : null;
      var label = document.querySelector('label[for="' + input.id + '"]');
      (legend || label || input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }

  function setupReveals() {
    var panels = document.querySelectorAll("[data-reveal-for]");
    panels.forEach(function (panel) {
      var name = panel.getAttribute("data-reveal-for");
      var value = panel.getAttribute("data-reveal-value");
      // A field asked for several of the options (or before any is chosen) names them all.
      var values = panel.hasAttribute("data-reveal-values") ? JSON.parse(panel.getAttribute("data-reveal-values")) : null;
      var radios = document.querySelectorAll('input[type="radio"][name="' + name + '"]');
      function sync() {
        var chosen = document.querySelector('input[type="radio"][name="' + name + '"]:checked');
        var open = values ? !chosen || values.indexOf(chosen.value) >= 0 : !!chosen && chosen.value === value;
        // aria-expanded is not allowed on radios (ARIA 1.2), so only `hidden` changes.
        panel.hidden = !open;
      }
      radios.forEach(function (radio) { radio.addEventListener("change", sync); });
      sync();
    });
  }

  function setupAutosave() {
    var form = document.querySelector("form[data-autosave]");
    if (!form) return;
    var status = form.querySelector("[data-autosave-status]");
    var timer = null;
    var inFlight = false;
    var again = false;
    var submitting = false;
    var waitingSubmitter = null;

    function revisionInputs() { return document.querySelectorAll("[data-revision]"); }

    function save() {
      if (submitting) return;
      status.textContent = "";  // "Saved" only once this change is saved too
      if (inFlight) { again = true; return; }
      inFlight = true;
      var data = new FormData(form);
      form.querySelectorAll('input[type="file"]').forEach(function (input) {
        // Files go up on their own; what is saved is the list of uploaded ids (maybe none).
        data.delete(input.name);
        form.querySelectorAll('input[type="hidden"][name="' + input.name + '"]').forEach(function (kept) {
          data.append(input.name, kept.value);
        });
        data.append(input.name, "");
      });
      data.delete("action");
      fetch(form.getAttribute("action") + "/draft", {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": token, "Accept": "application/json" }
      }).then(function (response) {
        if (response.status === 409) {
          status.textContent = "Your answers were changed in another window. Reload the page to see them.";
          return null;
        }
        if (!response.ok) { status.textContent = "Your latest answers could not be saved. Use Continue or Save and come back later."; return null; }
        return response.json();
      }).then(function (body) {
        if (!body) return;
        revisionInputs().forEach(function (input) { input.value = body.revision; });
        status.textContent = "Saved";
      }).catch(function () {
        status.textContent = "Your latest answers could not be saved. Check your connection.";
      }).then(function () {
        inFlight = false;
        if (submitting) {
          // The form was sent while this save was on its way: send it now, with the revision
          // the save returned (sending it sooner would be refused as a conflicting change).
          var submitter = waitingSubmitter;
          waitingSubmitter = null;
          if (submitter && submitter.form === form) form.requestSubmit(submitter);
          else form.requestSubmit();
          return;
        }
        if (again) { again = false; save(); }
      });
    }

    function soon() { clearTimeout(timer); timer = setTimeout(save, 800); }
    form.addEventListener("input", function (event) {
      if (event.target.type !== "file") { status.textContent = ""; soon(); }
    });
    form.addEventListener("change", function (event) {
      if (event.target.type !== "file") { clearTimeout(timer); save(); }
    });
    form.addEventListener("submit", function (event) {
      clearTimeout(timer);
      timer = null;
      again = false;
      submitting = true;
      if (inFlight) {
        event.preventDefault();
        waitingSubmitter = event.submitter || null;
      }
    });
    form.addEventListener("focusout", function (event) {
      if (timer && event.target.type !== "file") { clearTimeout(timer); timer = null; save(); }
    });
    form.wayline = { save: save };
  }

  function setupUploads() {
    document.querySelectorAll("[data-upload]").forEach(function (group) {
      var input = group.querySelector('input[type="file"]');
      var list = group.querySelector("[data-file-list]");
      var announce = group.querySelector("[data-upload-status]");
      var form = group.closest("form");
      var field = group.getAttribute("data-field");
      var journey = group.getAttribute("data-journey");

      function autosave() { if (form && form.wayline) form.wayline.save(); }

      function removable(item, documentId, filename) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.innerHTML = 'Remove<span class="visually-hidden"></span>';
        button.querySelector("span").textContent = " " + filename;
        button.addEventListener("click", function () { removeItem(item, filename); });
        item.appendChild(button);
      }

      function removeItem(item, filename) {
        item.remove();
        announce.textContent = filename + " removed";
        input.focus();
        autosave();
      }

      list.querySelectorAll("[data-remove]").forEach(function (button) {
        button.addEventListener("click", function (event) {
          event.preventDefault();
          var item = button.closest("li");
          removeItem(item, item.querySelector(".file-name").textContent);
        });
      });

      function upload(file) {
        var item = document.createElement("li");
        item.className = "file-list-item";
        var name = document.createElement("span");
        name.className = "file-name";
        name.textContent = file.name;
        var state = document.createElement("span");
        state.className = "file-status";
        state.textContent = "uploading…";
        item.appendChild(name);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(state);
        list.appendChild(item);
        var data = new FormData();
        data.append("file", file);
        data.append("field", field);
        return fetch("/api/v1/journeys/" + journey + "/documents", {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "X-CSRF-Token": token, "Accept": "application/json" }
        }).then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        }).then(function (result) {
          if (!result.ok) {
            state.className = "file-status file-status-error";
            state.textContent = "not uploaded: " + (result.body.detail || "try again");
            removable(item, "", file.name);
            return file.name + " was not uploaded";
          }
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = field;
          hidden.value = result.body.id;
          item.insertBefore(hidden, item.firstChild);
          item.setAttribute("data-document", result.body.id);
          state.textContent = "uploaded";
          removable(item, result.body.id, file.name);
          return file.name + " uploaded";
        }).catch(function () {
          state.className = "file-status file-status-error";
          state.textContent = "not uploaded: check your connection and try again";
          return file.name + " was not uploaded";
        });
      }

      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files);
        if (!files.length) return;
        announce.textContent = "Uploading " + files.length + " file" + (files.length > 1 ? "s" : "");
        Promise.all(files.map(upload)).then(function (messages) {
          input.value = "";
          announce.textContent = messages.join(". ");
          autosave();
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    setupReveals();
    setupAutosave();
    setupUploads();
  });
})();
