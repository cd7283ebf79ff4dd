/* The item grid of the declaration form: add, copy and remove rows in the page, renumbering the
   formset's inputs, and Enter moving down a column instead of submitting. Without JavaScript the same
   buttons are submit buttons the server handles (grid_add / grid_copy / grid_remove). */
(function () {
  "use strict";

  var grid = document.getElementById("item-grid");
  if (!grid) { return; }
  var prefix = grid.getAttribute("data-prefix") || "items";
  var body = grid.tBodies[0];
  var template = document.getElementById("item-row-template");
  var totalInput = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  var indexPattern = new RegExp("(^|id_)" + prefix + "-(\\d+|__prefix__)-");

  function rows() {
    return Array.prototype.slice.call(body.querySelectorAll("tr[data-item-row]"));
  }

  function controls(row) {
    return Array.prototype.slice.call(row.querySelectorAll("input, select, textarea"));
  }

  function setIndex(element, attribute, index) {
    var value = element.getAttribute(attribute);
    if (value && indexPattern.test(value)) {
      element.setAttribute(attribute, value.replace(indexPattern, "$1" + prefix + "-" + index + "-"));
    }
  }

  function renumber() {
    rows().forEach(function (row, index) {
      row.querySelectorAll("[id], [name], label[for]").forEach(function (element) {
        setIndex(element, "id", index);
        setIndex(element, "name", index);
        setIndex(element, "for", index);
      });
      row.querySelectorAll("[data-item-number]").forEach(function (span) {
        span.textContent = String(index + 1);
      });
      row.querySelectorAll("[data-item-label]").forEach(function (span) {
        span.textContent = span.textContent.replace(/\d+|__number__/, String(index + 1));
      });
      row.querySelectorAll("button[data-grid-action]").forEach(function (button) {
        button.value = String(index);
      });
    });
    totalInput.value = String(rows().length);
  }

  function clearErrors(row) {
    row.classList.remove("item-row--error");
    row.querySelectorAll(".errorlist, .row-errors").forEach(function (list) { list.remove(); });
    row.querySelectorAll(".grid-cell--error").forEach(function (cell) {
      cell.classList.remove("grid-cell--error");
    });
    row.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
  }

  function newRow() {
    var holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.trim();
    return holder.querySelector("tr");
  }

  function focusFirst(row) {
    var first = controls(row)[0];
    if (first) { first.focus(); }
  }

  function copyRow(row) {
    var copy = row.cloneNode(true);
    var from = controls(row);
    controls(copy).forEach(function (control, index) {
      // cloneNode keeps attributes, not always what was typed or chosen: copy the live values.
      if (control.type === "checkbox") {
        control.checked = from[index].checked;
      } else {
        control.value = from[index].value;
      }
    });
    clearErrors(copy);
    row.parentNode.insertBefore(copy, row.nextSibling);
    renumber();
    focusFirst(copy);
  }

  function addRow() {
    var row = newRow();
    body.appendChild(row);
    renumber();
    focusFirst(row);
  }

  function removeRow(row) {
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    if (rows().length === 0) {
      addRow();
      return;
    }
    renumber();
    if (next) { focusFirst(next); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-grid-action]");
    if (!button) { return; }
    var action = button.getAttribute("data-grid-action");
    var row = button.closest("tr[data-item-row]");
    event.preventDefault();
    if (action === "add") {
      addRow();
    } else if (action === "copy" && row) {
      copyRow(row);
    } else if (action === "remove" && row) {
      removeRow(row);
    }
  });

  // Enter in a grid input moves to the same column of the next row; it never submits the form.
  grid.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    var target = event.target;
    if (!target.matches("input, select")) { return; }
    event.preventDefault();
    var row = target.closest("tr[data-item-row]");
    var column = controls(row).indexOf(target);
    var next = row.nextElementSibling;
    if (next && controls(next)[column]) {
      controls(next)[column].focus();
    }
  });
})();
