// After a failed submit the page opens with the error summary focused (GOV.UK pattern), so
// that screen readers read it first and the keyboard starts there. Without JavaScript the
// summary is still the first thing in the content and its role="alert" announces it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary[tabindex='-1']");
  if (summary && !window.location.hash) {
    summary.focus();
  }
});
