// Small progressive touches for every page; each page works without them.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
