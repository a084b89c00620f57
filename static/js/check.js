// The home page's check tool: computes the SHA-256 of the typed address in the browser
// (crypto.subtle) and updates the hashes and the live preview as the person types.
// Without script, or where crypto.subtle is missing (plain-HTTP hosts), the form's GET
// request shows the same result from the server, MD5 included.
"use strict";
(() => {
  const form = document.querySelector("[data-check]");
  if (!form || !window.crypto || !window.crypto.subtle) return;
  const input = form.querySelector("input[type=email]");
  const result = document.querySelector("[data-check-result]");
  const site = form.dataset.siteUrl;
  const $ = (sel) => result.querySelector(sel);
  let pending = 0;

  async function sha256(text) {
    const bytes = new TextEncoder().encode(text);
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function update() {
    const normal = input.value.trim().toLowerCase();
    const ticket = ++pending;
    if (!normal.includes("@")) return;
    const hash = await sha256(normal);
    if (ticket !== pending) return; // a later keystroke already won
    result.hidden = false;
    $("[data-sha256]").textContent = hash;
    $("[data-url]").textContent = `${site}/avatar/${hash}`;
    $("[data-md5]").textContent = form.dataset.textMd5Pending;
    $("[data-md5-url]").textContent = "";
    for (const img of result.querySelectorAll("[data-preview]")) {
      img.src = `/avatar/${hash}?s=${2 * Number(img.dataset.size)}&d=identicon`;
    }
  }

  let timer = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
})();
