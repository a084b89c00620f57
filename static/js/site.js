// Small progressive touches for every page; each page works without them.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
// A form that came back with errors: the focus goes to the first field in error, whose error
// Django ties to it with aria-describedby, so a screen reader reads both and a keyboard user
// starts there; an error about the whole form (a wrong password) is focused itself.
const invalid = document.querySelector("[aria-invalid=true], ul.errorlist.nonfield");
if (invalid) {
  if (!invalid.matches("input, select, textarea")) invalid.tabIndex = -1;
  invalid.focus();
}
