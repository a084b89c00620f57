// The profile editor's live slug check: asks the server as you type and says whether the
// address is available. Without script the form works the same; the server checks on submit.
"use strict";
(() => {
  const field = document.querySelector("[data-slug-field]");
  if (!field) return;
  const input = field.querySelector("input");
  const status = field.querySelector("[data-slug-status]");
  let timer = 0;
  let pending = null;
  const check = async () => {
    const slug = input.value.trim();
    if (pending) pending.abort();
    if (!slug) { status.textContent = ""; status.className = "hint"; return; }
    pending = new AbortController();
    try {
      const url = `${field.dataset.checkUrl}?slug=${encodeURIComponent(slug)}`;
      const response = await fetch(url, { signal: pending.signal, credentials: "same-origin",
                                           headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const answer = await response.json();
      if (input.value.trim() !== slug) return;  // an older answer, overtaken by typing
      status.textContent = answer.message;
      status.dataset.status = answer.status;
      status.className = answer.status === "available" ? "hint ok" : "hint errors";
    } catch (error) {
      if (error.name !== "AbortError") status.textContent = "";
    }
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 250); });
})();
