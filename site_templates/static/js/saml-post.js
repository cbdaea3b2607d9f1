// Sends the identity provider's answer on by itself. Without JavaScript the page shows a
// "Weiter" button that does the same; this file only saves the click.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-auto-submit]");
  if (form) {
    form.submit();
  }
});
