// The switch "Passwort anzeigen" under a password field (data-anzeigbar): shows what was
// typed, so that a new password is typed once and checked by eye instead of twice.
// Without JavaScript the field is a plain password field and works all the same.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-anzeigbar]").forEach(function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal-button";
    button.textContent = "Passwort anzeigen";
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", show ? "true" : "false");
    });
    input.insertAdjacentElement("afterend", button);
    if (input.form) {
      // Sent as a password field: browsers keep typed text fields in their form history.
      input.form.addEventListener("submit", function () {
        input.type = "password";
        button.setAttribute("aria-pressed", "false");
      });
    }
  });
});
