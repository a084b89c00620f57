// The upload page, progressively enhanced. Without script the form still posts a file or a
// URL and the server crops a centred square. With it: drag and drop, the camera, fetching a
// URL into the crop screen, a square crop with live previews at several sizes, rotation in
// quarter turns, and a progress bar while the file uploads.
//
// The crop is sent as numbers in the pixel coordinates of the upright, rotated image; the
// server applies the same EXIF orientation and rotation, then clamps the numbers itself.
"use strict";
(() => {
  const form = document.querySelector("[data-upload]");
  if (!form) return;
  const q = (sel) => form.querySelector(sel);
  const fileInput = form.querySelector("input[type=file]");
  const urlInput = form.querySelector("input[name=url]");
  const errors = q("[data-errors]");
  const editor = q("[data-editor]");
  const canvas = q("[data-canvas]");
  const selection = q("[data-selection]");
  const zoom = q("[data-zoom]");
  const previews = form.querySelectorAll("[data-preview]");
  const progress = q("[data-progress]");
  const submit = q("[data-submit]");
  const maxBytes = Number(form.dataset.maxBytes);
  // The messages, in the page's language: the template writes them as data-text-* attributes.
  const text = (name, detail = "") => (form.dataset[name] || "").replace("%s", detail);
  const field = (name) => form.querySelector(`input[name=${name}]`);
  // The working copy is capped so that phones do not hold a 48-megapixel canvas.
  const WORK_EDGE = 1024;

  const state = { image: null, turns: 0, width: 0, height: 0, work: null, crop: null };

  function showErrors(list) {
    errors.innerHTML = "";
    if (!list.length) return;
    const ul = document.createElement("ul");
    ul.className = "errorlist";
    for (const text of list) {
      const li = document.createElement("li");
      li.textContent = text;
      ul.append(li);
    }
    errors.append(ul);
    errors.scrollIntoView({ block: "nearest" });
  }

  // --- Loading an image from any source ---------------------------------------------------

  function useFile(file) {
    showErrors([]);
    if (file.size > maxBytes) {
      showErrors([`The file is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${Math.round(maxBytes / 1048576)} MB.`]);
      return;
    }
    if (fileInput.files[0] !== file) {
      const transfer = new DataTransfer();
      transfer.items.add(file);
      fileInput.files = transfer.files;
    }
    if (urlInput) urlInput.value = "";
    const img = new Image();
    const url = URL.createObjectURL(file);
    img.onload = () => {
      URL.revokeObjectURL(url);
      state.image = img;
      state.turns = 0;
      field("quarter_turns").value = "0";
      layout();
      editor.hidden = false;
    };
    img.onerror = () => {
      // Some formats (HEIC in most browsers) cannot be previewed; the server still reads them.
      URL.revokeObjectURL(url);
      state.image = null;
      editor.hidden = true;
      for (const name of ["crop_left", "crop_top", "crop_edge"]) field(name).value = "";
      showErrors([text("textNoPreview")]);
    };
    img.src = url;
  }

  fileInput.addEventListener("change", () => {
    if (fileInput.files[0]) useFile(fileInput.files[0]);
  });

  const dropzone = q("[data-dropzone]");
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropzone.addEventListener(type, () => dropzone.classList.remove("over"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) useFile(file);
  });

  // Fetch by URL through the server (it refuses private addresses), then crop like a file.
  const fetchButton = q("[data-fetch]");
  if (fetchButton && urlInput) {
    fetchButton.hidden = false;
    fetchButton.addEventListener("click", async () => {
      showErrors([]);
      const body = new FormData();
      body.append("csrfmiddlewaretoken", field("csrfmiddlewaretoken").value);
      body.append("url", urlInput.value);
      fetchButton.disabled = true;
      try {
        const response = await fetch(form.dataset.fetchUrl, { method: "POST", body, credentials: "same-origin" });
        if (!response.ok) {
          const answer = await response.json().catch(() => ({ errors: [text("textFetchFailed")] }));
          showErrors(answer.errors);
          return;
        }
        const blob = await response.blob();
        const extension = blob.type === "image/png" ? "png" : "jpg";
        useFile(new File([blob], `fetched.${extension}`, { type: blob.type }));
      } catch (error) {
        showErrors([text("textFetchOffline")]);
      } finally {
        fetchButton.disabled = false;
      }
    });
  }

  // The camera, where the browser offers it (a secure origin and a camera to ask for).
  const camera = q("[data-camera]");
  if (camera && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.isSecureContext) {
    camera.hidden = false;
    const start = q("[data-camera-start]");
    const video = q("[data-camera-video]");
    const shoot = q("[data-camera-shoot]");
    let stream = null;
    start.addEventListener("click", async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false });
      } catch (error) {
        showErrors([error && error.message ? text("textCameraFailed", error.message) : text("textCameraDenied")]);
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      shoot.hidden = false;
      await video.play();
    });
    shoot.addEventListener("click", () => {
      const snap = document.createElement("canvas");
      snap.width = video.videoWidth;
      snap.height = video.videoHeight;
      snap.getContext("2d").drawImage(video, 0, 0);
      for (const track of stream.getTracks()) track.stop();
      video.hidden = true;
      shoot.hidden = true;
      snap.toBlob((blob) => useFile(new File([blob], "camera.jpg", { type: "image/jpeg" })), "image/jpeg", 0.92);
    });
  }

  // --- The crop screen --------------------------------------------------------------------

  function layout() {
    const img = state.image;
    const odd = state.turns % 2 === 1;
    state.width = odd ? img.naturalHeight : img.naturalWidth;
    state.height = odd ? img.naturalWidth : img.naturalHeight;
    const scale = Math.min(1, WORK_EDGE / Math.max(state.width, state.height));
    const work = document.createElement("canvas");
    work.width = Math.max(1, Math.round(state.width * scale));
    work.height = Math.max(1, Math.round(state.height * scale));
    const ctx = work.getContext("2d");
    ctx.translate(work.width / 2, work.height / 2);
    ctx.rotate((state.turns * Math.PI) / 2);
    const w = (odd ? work.height : work.width);
    const h = (odd ? work.width : work.height);
    ctx.drawImage(img, -w / 2, -h / 2, w, h);
    state.work = work;
    canvas.width = work.width;
    canvas.height = work.height;
    canvas.getContext("2d").drawImage(work, 0, 0);
    const edge = Math.min(state.width, state.height);
    zoom.value = "100";
    setCrop({ left: (state.width - edge) / 2, top: (state.height - edge) / 2, edge });
  }

  function setCrop(crop) {
    const edge = Math.max(1, Math.min(Math.round(crop.edge), state.width, state.height));
    const left = Math.min(Math.max(0, Math.round(crop.left)), state.width - edge);
    const top = Math.min(Math.max(0, Math.round(crop.top)), state.height - edge);
    state.crop = { left, top, edge };
    selection.style.left = `${(100 * left) / state.width}%`;
    selection.style.top = `${(100 * top) / state.height}%`;
    selection.style.width = `${(100 * edge) / state.width}%`;
    selection.style.height = `${(100 * edge) / state.height}%`;
    field("crop_left").value = String(left);
    field("crop_top").value = String(top);
    field("crop_edge").value = String(edge);
    const k = state.work.width / state.width;
    for (const preview of previews) {
      const ctx = preview.getContext("2d");
      ctx.imageSmoothingQuality = "high";
      ctx.clearRect(0, 0, preview.width, preview.height);
      ctx.drawImage(state.work, left * k, top * k, edge * k, edge * k, 0, 0, preview.width, preview.height);
    }
  }

  // Screen pixels to image pixels, for dragging.
  const ratio = () => state.width / canvas.getBoundingClientRect().width;

  let drag = null;
  selection.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    selection.setPointerCapture(event.pointerId);
    drag = { x: event.clientX, y: event.clientY, crop: { ...state.crop } };
  });
  selection.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const r = ratio();
    setCrop({
      left: drag.crop.left + (event.clientX - drag.x) * r,
      top: drag.crop.top + (event.clientY - drag.y) * r,
      edge: drag.crop.edge,
    });
  });
  const endDrag = () => { drag = null; };
  selection.addEventListener("pointerup", endDrag);
  selection.addEventListener("pointercancel", endDrag);

  // A tap outside the square moves its centre there.
  canvas.addEventListener("pointerdown", (event) => {
    const box = canvas.getBoundingClientRect();
    const r = ratio();
    const { edge } = state.crop;
    setCrop({ left: (event.clientX - box.left) * r - edge / 2, top: (event.clientY - box.top) * r - edge / 2, edge });
  });

  zoom.addEventListener("input", () => {
    const { left, top, edge } = state.crop;
    const next = (Math.min(state.width, state.height) * Number(zoom.value)) / 100;
    setCrop({ left: left + (edge - next) / 2, top: top + (edge - next) / 2, edge: next });
  });

  selection.addEventListener("keydown", (event) => {
    const step = Math.max(1, Math.round(Math.min(state.width, state.height) * (event.shiftKey ? 0.1 : 0.01)));
    const { left, top, edge } = state.crop;
    const moves = {
      ArrowLeft: [-step, 0, 0], ArrowRight: [step, 0, 0], ArrowUp: [0, -step, 0], ArrowDown: [0, step, 0],
      "+": [-step / 2, -step / 2, step], "=": [-step / 2, -step / 2, step], "-": [step / 2, step / 2, -step],
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    setCrop({ left: left + move[0], top: top + move[1], edge: edge + move[2] });
    zoom.value = String(Math.round((100 * state.crop.edge) / Math.min(state.width, state.height)));
  });

  q("[data-rotate]").addEventListener("click", () => {
    state.turns = (state.turns + 1) % 4;
    field("quarter_turns").value = String(state.turns);
    layout();
  });

  // --- Sending, with progress ---------------------------------------------------------------

  form.addEventListener("submit", (event) => {
    if (!window.FormData || !window.XMLHttpRequest) return;
    event.preventDefault();
    showErrors([]);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    progress.hidden = false;
    progress.value = 0;
    submit.disabled = true;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        progress.value = Math.round((100 * e.loaded) / e.total);
        progress.textContent = `${progress.value}%`;
      }
    });
    request.addEventListener("load", () => {
      const answer = request.response || {};
      if (request.status === 200 && answer.redirect) {
        window.location.assign(answer.redirect);
        return;
      }
      submit.disabled = false;
      progress.hidden = true;
      showErrors(answer.errors || [text("textUploadFailed", String(request.status))]);
    });
    request.addEventListener("error", () => {
      submit.disabled = false;
      progress.hidden = true;
      showErrors([text("textUploadOffline")]);
    });
    request.send(new FormData(form));
  });

  // The script is deferred: on a slow connection a file can be chosen before it ran, and that
  // choice fired its change event with nobody listening.
  if (fileInput.files[0]) useFile(fileInput.files[0]);
})();
