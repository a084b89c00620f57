// Profile cards on this service's avatars in other sites (README: Profiles → Hovercards).
"use strict";
(() => {
const doc = document;
const html = doc.documentElement;
const me = doc.currentScript;
if (!me || window.avatarsHovercards || !window.AbortSignal?.timeout || !Element.prototype.attachShadow) return;
window.avatarsHovercards = true;
const ORIGIN = new URL(me.src, location.href).origin;
// avatars/contract.py's HASH_PATTERN; an extension is split off.
const AVATAR = /^\/avatar\/([0-9a-f]{32}|[0-9a-f]{64})(?:\.[a-z0-9]+)?$/i;
const SHOW_DELAY = 250; // ms: a pointer passing by asks nothing
const HIDE_DELAY = 300; // ms to move the pointer onto the card
const TIMEOUT = 5000;
const MAX_HASHES = 1000; // bounded memory on an endless feed
const ACCOUNTS = 3;
const ID = "avatars-hovercard";
const MARK = "data-hovercard";
const TRIGGER = "a[href],button";
const DESCRIBED = "aria-describedby";
const CSS = `:host{all:initial}
.card{display:flex;gap:12px;max-width:min(320px,calc(100vw - 42px));padding:12px;background:#fff;color:#1f2328;border:1px solid #d0d7de;border-radius:8px;box-shadow:0 4px 16px #0003;font:14px/1.4 system-ui,sans-serif;overflow-wrap:anywhere;animation:in .15s ease-out}
img{flex:none;border-radius:50%}
p,ul{margin:0 0 4px;padding:0}
.name{font-size:16px;font-weight:600}
.meta{color:#59636e}
ul{list-style:none;display:flex;flex-wrap:wrap;gap:2px 12px}
a{color:#0550ae}
a:focus-visible{outline:2px solid;outline-offset:2px}
@media (prefers-reduced-motion:reduce){.card{animation:none}}
@keyframes in{from{opacity:0;transform:translateY(4px)}}`;

const profiles = new Map(); // hash → a Promise of the profile or null
const none = new Set(); // hashes that show nothing
let pending = null; // {img, trigger, hash}
let shown = null;
let returning = null; // focused by the card: not reopened
let showTimer = 0;
let hideTimer = 0;

const host = doc.createElement("avatars-hovercard");
host.id = ID;
host.setAttribute("role", "dialog");
// Inline !important: no rule of the page restyles it.
host.style.cssText = "all:initial!important;display:block!important;position:absolute!important;z-index:2147483647!important";
const root = host.attachShadow({ mode: "open" });

// Only http(s) reaches an href or src.
const web = (value) => {
  try {
    const url = new URL(value);
    if (/^https?:$/.test(url.protocol)) return url;
  } catch {}
  return null;
};
const text = (value) => (typeof value === "string" ? value.trim() : "");
const hashOf = (img) => {
  const url = img?.tagName === "IMG" && web(img.src);
  const match = url && url.origin === ORIGIN && AVATAR.exec(url.pathname);
  return match ? match[1].toLowerCase() : null;
};

const profileOf = (hash) => {
  let answer = profiles.get(hash);
  if (answer) return answer;
  if (profiles.size >= MAX_HASHES) profiles.delete(profiles.keys().next().value);
  const signal = AbortSignal.timeout(TIMEOUT);
  answer = fetch(`${ORIGIN}/v3/profiles/${hash}?source=hovercard`, { credentials: "omit", signal })
    .then((response) => (response.ok ? response.json() : null))
    .then((body) => (web(body?.profile_url) ? body : null), () => null);
  profiles.set(hash, answer);
  return answer;
};

// An avatar in a link or button is reached through it, others get a tab stop: until known
// to show nothing.
const unmark = (img) => {
  if (img !== doc.activeElement) return img.removeAttribute("tabindex"), img.removeAttribute(MARK);
  img.addEventListener("blur", () => unmark(img), { once: true });
};
const mark = (img) => {
  const hash = hashOf(img);
  if (!hash || none.has(hash)) return img.hasAttribute(MARK) && unmark(img);
  if (img.hasAttribute("tabindex") || img.closest(TRIGGER)) return;
  img.tabIndex = 0;
  img.setAttribute(MARK, "");
};
const images = (node) => [node, ...node.getElementsByTagName("img")];
const scan = (node) => node.nodeType === 1 && node !== host && images(node).forEach(mark);
const avatarIn = (trigger) =>
  hashOf(trigger) ? trigger : trigger.matches?.(TRIGGER) && images(trigger).find(hashOf);

const want = (img, trigger, delay) => {
  if (shown?.img === img) return clearTimeout(hideTimer);
  const ask = { img, trigger, hash: hashOf(img) };
  clearTimeout(showTimer);
  pending = ask;
  showTimer = setTimeout(async () => {
    const p = await profileOf(ask.hash);
    if (pending !== ask) return; // moved on meanwhile
    pending = null;
    if (p) return img.isConnected && show(ask, p);
    none.add(ask.hash);
    for (const other of doc.images) if (other.hasAttribute(MARK)) mark(other);
  }, delay);
};
const engaged = () =>
  [host, shown.trigger].includes(doc.activeElement) || host.matches(":hover") || shown.img.matches(":hover");
const leave = () => {
  clearTimeout(showTimer);
  clearTimeout(hideTimer);
  pending = null;
  hideTimer = setTimeout(() => shown && !engaged() && hide(), HIDE_DELAY);
};

// The card describes its avatar, unless the page described it.
const describe = (trigger, on) =>
  on ? trigger.hasAttribute(DESCRIBED) || trigger.setAttribute(DESCRIBED, ID)
    : trigger.getAttribute(DESCRIBED) === ID && trigger.removeAttribute(DESCRIBED);
// Profile data goes into textContent, never HTML.
const make = (tag, props, ...children) => {
  const node = Object.assign(doc.createElement(tag), props);
  node.append(...children);
  return node;
};
const card = (p) => {
  const page = web(p.profile_url);
  const name = text(p.display_name) || page.pathname.split("/").pop();
  const job = [text(p.job_title), text(p.company)].filter(Boolean).join(", ");
  const body = make("div", {}, make("p", { className: "name", textContent: name }));
  for (const line of [text(p.location), job]) if (line) body.append(make("p", { className: "meta", textContent: line }));
  const accounts = [].concat(p.verified_accounts || []).filter((a) => a && !a.is_hidden && web(a.url));
  if (accounts.length) {
    const list = make("ul");
    list.setAttribute("aria-label", "Verified accounts");
    for (const a of accounts.slice(0, ACCOUNTS)) {
      const label = text(a.service_label) || text(a.service_type) || "Website";
      list.append(make("li", {}, make("a", { href: web(a.url).href, rel: "nofollow ugc", textContent: label })));
    }
    body.append(list);
  }
  body.append(make("a", { href: page.href, textContent: "View profile" }));
  const box = make("div", { className: "card" }, body);
  const avatar = web(p.avatar_url);
  if (avatar) {
    avatar.searchParams.set("s", "128");
    box.prepend(make("img", { src: avatar.href, alt: text(p.avatar_alt_text), width: 64, height: 64 }));
  }
  host.setAttribute("aria-label", `Profile of ${name}`);
  return box;
};

const move = (x, y) => {
  host.style.setProperty("left", `${x}px`, "important");
  host.style.setProperty("top", `${y}px`, "important");
};
// Below the avatar (or above), in the viewport, wherever the page puts (0, 0) of <body>.
const place = (img) => {
  const at = img.getBoundingClientRect();
  const { clientWidth, clientHeight } = html;
  move(0, 0);
  const zero = host.getBoundingClientRect();
  let y = at.bottom + 8;
  if (y + zero.height > clientHeight && at.top > zero.height + 8) y = at.top - zero.height - 8;
  move(Math.max(8, Math.min(at.left, clientWidth - zero.width - 8)) - zero.left, y - zero.top);
};
const show = (ask, p) => {
  hide();
  root.replaceChildren(make("style", { textContent: CSS }), card(p));
  doc.body.append(host);
  shown = ask;
  place(ask.img);
  describe(ask.trigger, true);
};
const hide = () => {
  clearTimeout(hideTimer);
  if (!shown) return;
  describe(shown.trigger, false);
  host.remove();
  shown = null;
};

// Capture phase: pages stopping propagation still get cards.
const on = (type, listener) => doc.addEventListener(type, listener, true);
const watched = (node) => node && [host, shown?.img, pending?.img].includes(node);
on("mouseover", ({ target }) => {
  if (target === host) return clearTimeout(hideTimer);
  if (hashOf(target)) want(target, target.closest(TRIGGER) || target, SHOW_DELAY);
});
on("mouseout", ({ target, relatedTarget }) => {
  if (watched(target) && !watched(relatedTarget)) leave();
});
on("focusin", ({ target }) => {
  if (target === host) return clearTimeout(hideTimer);
  if (target === returning) return (returning = null);
  const img = avatarIn(target);
  if (img) want(img, target, 0);
});
on("focusout", ({ target, relatedTarget }) => {
  const active = shown || pending;
  const mine = (node) => node === host || node === active.trigger;
  if (active && mine(target) && !mine(relatedTarget)) leave();
});
on("keydown", (e) => {
  if (!shown) return;
  const { trigger } = shown;
  const inside = e.target === host;
  const links = [...root.querySelectorAll("a")];
  const edge = links.indexOf(root.activeElement) === (e.shiftKey ? 0 : links.length - 1);
  if (e.key === "Escape") {
    e.stopPropagation(); // not also closing a dialog the avatar sits in
    if (inside) (returning = trigger).focus();
    hide();
  } else if (e.key === "Tab" && !inside && e.target === trigger && !e.shiftKey) {
    e.preventDefault(); // the card's links follow their avatar in the tab order
    links[0].focus();
  } else if (e.key === "Tab" && inside && edge) {
    // Back on the avatar: Shift+Tab stays there, Tab (the browser's own) moves on from it.
    if (e.shiftKey) e.preventDefault(), trigger.focus();
    else (returning = trigger).focus(), hide();
  }
});
addEventListener("resize", hide);

// A visible focus on our tab stops, whatever the page resets.
doc.head.append(make("style", { textContent: `[${MARK}]:focus-visible{outline:2px solid #0550ae}` }));

scan(html);
new MutationObserver((records) => {
  if (!shown?.img.isConnected) hide(); // its avatar left the page
  for (const record of records) {
    if (record.type === "attributes") mark(record.target);
    else for (const node of record.addedNodes) scan(node);
  }
}).observe(html, { childList: true, subtree: true, attributes: true, attributeFilter: ["src"] });
})();
