// Conditional questions of an online application, revealed in place (GOV.UK's conditional
// reveal: aria-controls on the answers that reveal a question, no aria-expanded). The server renders a question that depends on an answer on the same page inside
// a hidden block (data-wenn-feld: the question it depends on, data-wenn-werte: the answers
// that show it); without JavaScript it stays hidden and the server asks it on the following
// page. This script shows it as soon as the answer is chosen and tells the server, with the
// field "skript", that the page asked every question of the step at once.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var form = document.querySelector("form[data-antrag]");
  if (!form) {
    return;
  }
  var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-wenn-feld]"));
  if (!blocks.length) {
    return;
  }
  var marker = document.createElement("input");
  marker.type = "hidden";
  marker.name = "skript";
  marker.value = "ja";
  form.appendChild(marker);

  function inputsOf(name) {
    return Array.prototype.slice.call(form.querySelectorAll("input[name='" + name + "']"));
  }

  function hiddenByBlock(element) {
    var block = element.closest("[data-wenn-feld]");
    return block !== null && block.hidden;
  }

  // A screen reader hears when a question appears (radio buttons may not carry aria-expanded).
  var news = document.createElement("p");
  news.className = "visually-hidden";
  news.setAttribute("aria-live", "polite");
  form.appendChild(news);

  // Blocks come in the page's order, so a block that depends on a revealed question is
  // decided after the block that holds that question.
  function update(announce) {
    var appeared = [];
    blocks.forEach(function (block) {
      var wanted = block.getAttribute("data-wenn-werte").split(" ");
      var met = inputsOf(block.getAttribute("data-wenn-feld")).some(function (input) {
        return input.checked && wanted.indexOf(input.value) !== -1 && !hiddenByBlock(input);
      });
      if (met && block.hidden) {
        var label = block.querySelector("label, legend");
        appeared.push(label ? label.textContent.replace(/\s+/g, " ").trim() : "");
      }
      block.hidden = !met;
    });
    if (announce && appeared.length) {
      news.textContent = "Darunter " + (appeared.length === 1 ? "ist eine weitere Frage" : "sind weitere Fragen") +
        " erschienen: " + appeared.join(", ");
    }
  }

  blocks.forEach(function (block) {
    inputsOf(block.getAttribute("data-wenn-feld")).forEach(function (input) {
      if (block.getAttribute("data-wenn-werte").split(" ").indexOf(input.value) !== -1) {
        var controls = (input.getAttribute("aria-controls") || "").split(" ").filter(Boolean);
        controls.push(block.id);
        input.setAttribute("aria-controls", controls.join(" "));
      }
    });
  });
  form.addEventListener("change", function () { update(true); });
  update(false);
});
