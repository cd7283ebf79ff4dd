/* The conditions builder of a selectivity criterion: an "Add a condition" button, and the comparisons
 * that do not apply to the chosen "What" greyed out. Optional: without JavaScript the form has a few
 * empty rows, and the server says which comparison does not apply. */
(function () {
  "use strict";

  var form = document.getElementById("criterion-form");
  if (!form) { return; }
  var rows = document.getElementById("condition-rows");
  var template = document.getElementById("condition-row-template");
  var addButton = document.getElementById("condition-add");
  var total = form.querySelector('input[name="conditions-TOTAL_FORMS"]');
  var maximum = form.querySelector('input[name="conditions-MAX_NUM_FORMS"]');
  var operatorsData = document.getElementById("condition-operators");
  var operatorsByKind = operatorsData ? JSON.parse(operatorsData.textContent) : {};

  function limitOperators(row) {
    var kind = row.querySelector('select[name$="-kind"]');
    var operator = row.querySelector('select[name$="-operator"]');
    if (!kind || !operator) { return; }
    var allowed = operatorsByKind[kind.value];
    Array.prototype.forEach.call(operator.options, function (option) {
      option.disabled = Boolean(allowed && option.value && allowed.indexOf(option.value) === -1);
    });
    if (allowed && operator.value && allowed.indexOf(operator.value) === -1) { operator.value = ""; }
    if (allowed && allowed.length === 1 && !operator.value) { operator.value = allowed[0]; }
  }

  rows.addEventListener("change", function (event) {
    if (event.target.matches('select[name$="-kind"]')) {
      limitOperators(event.target.closest("[data-condition-row]"));
    }
  });
  Array.prototype.forEach.call(rows.querySelectorAll("[data-condition-row]"), limitOperators);

  if (!template || !addButton || !total) { return; }
  addButton.hidden = false;
  addButton.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    if (maximum && index >= parseInt(maximum.value, 10)) { return; }
    var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var added = rows.lastElementChild;
    limitOperators(added);
    var first = added.querySelector("select, input");
    if (first) { first.focus(); }
  });
})();
