// inpaint-toolkit serve: the page. Plain JavaScript modules, no build step, no outside
// requests. This one starts the page, opens photos and wires the controls and keys.
import { $, SETTING_NAMES, state, say, showNotices, errorLine, mib } from "./page.js";
import {
  applyPreset, changeBrush, clearMask, openMask, pointerDown, pointerMove, pointerUp, redo,
  redrawMask, setTool, undo, updateHistoryButtons,
} from "./mask.js";
import { runRepair, cancelRepair, clearResults, toggleCloseUp, setComparing } from "./results.js";

// ---------------------------------------------------------------------------------------
// start

async function start() {
  bindControls();
  try {
    const response = await fetch("/api/config");
    if (!response.ok) throw new Error(await errorLine(response));
    state.config = await response.json();
  } catch (error) {
    say(`Cannot reach the server: ${error.message}`, "error");
    return;
  }
  fillSettings(state.config.defaults);
  buildPresetButtons(state.config.presets);
  say("Open a photo of a face to begin: drop it on the page or press O.");
}

function fillSettings(defaults) {
  const form = $("settings");
  for (const name of SETTING_NAMES) {
    const field = form.elements[name];
    const value = defaults[name];
    field.value = value === null || value === undefined ? "" : String(value);
  }
  form.elements.iterations.max = state.config.limits.max_iterations;
  form.elements.restarts.max = state.config.limits.max_restarts;
  form.elements.samples.max = state.config.limits.max_samples;
}

function buildPresetButtons(presets) {
  const labels = { center: "centre", pixels: "random pixels" };
  $("presets").replaceChildren(...presets.map((name) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = labels[name] || name;
    button.dataset.preset = name;
    button.disabled = true;
    button.addEventListener("click", () => applyPreset(name));
    return button;
  }));
}

// ---------------------------------------------------------------------------------------
// opening a photo

async function openPhoto(file) {
  if (!file || !state.config) return;
  if (state.job) {
    say("A repair is running: cancel it before opening another photo.", "error");
    return;
  }
  const limit = state.config.limits.max_body_bytes;
  if (file.size > limit) {
    say(`${file.name} is ${mib(file.size)}; the server takes files up to ${mib(limit)}.`, "error");
    return;
  }
  say(`Uploading ${file.name}…`, "busy");
  try {
    const response = await fetch("/api/images", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: file,
    });
    if (!response.ok) throw new Error(await errorLine(response));
    const image = await response.json();
    say("Loading the photo…", "busy");
    const photo = await fetch(`/api/images/${image.id}/photo`);
    if (!photo.ok) throw new Error(await errorLine(photo));
    const url = URL.createObjectURL(await photo.blob());
    await loadImage($("photo"), url);
    showPhoto(image, url);
  } catch (error) {
    say(`Could not open ${file.name}: ${error.message}`, "error");
  }
}

function loadImage(element, url) {
  return new Promise((resolve, reject) => {
    element.onload = () => resolve();
    element.onerror = () => reject(new Error("the browser could not show it"));
    element.src = url;
  });
}

function showPhoto(image, url) {
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.image = image;
  state.photoUrl = url;
  const canvas = $("mask-layer");
  canvas.width = image.width;
  canvas.height = image.height;
  state.ops = [];
  state.applied = 0;
  redrawMask();
  const overlay = $("overlay");
  overlay.setAttribute("viewBox", `0 0 ${image.width} ${image.height}`);
  overlay.setAttribute("preserveAspectRatio", "none");
  drawFaces();
  $("drop-zone").hidden = true;
  $("stage").hidden = false;
  clearResults();
  showNotices(image.notices);
  for (const button of document.querySelectorAll("#presets button")) button.disabled = false;
  $("open-mask").disabled = false;
  $("run").disabled = false;
  const faces = image.faces.length;
  if (image.whole_photo) {
    say("No face found: the photo is taken as an aligned face crop. Paint the damage.", "done");
  } else {
    const found = faces === 1 ? "1 face found" : `${faces} faces found`;
    say(`${found}. Paint the damage, or pick a preset, then Repair.`, "done");
  }
}

function drawFaces() {
  const group = $("face-marks");
  const select = $("preset-face");
  const svg = "http://www.w3.org/2000/svg";
  const fontSize = Math.max(12, Math.round(Math.max(state.image.width, state.image.height) / 40));
  const marks = [];
  const options = [];
  state.image.faces.forEach((face, index) => {
    const mark = document.createElementNS(svg, "g");
    mark.setAttribute("class", index === 0 ? "chosen" : "");
    const crop = document.createElementNS(svg, "polygon");
    crop.setAttribute("class", "face-crop");
    crop.setAttribute("points", face.crop_outline.map((p) => p.join(",")).join(" "));
    const [x, y, w, h] = face.box;
    const box = document.createElementNS(svg, "rect");
    box.setAttribute("class", "face-box");
    Object.entries({ x, y, width: w, height: h }).forEach(([k, v]) => box.setAttribute(k, v));
    const label = document.createElementNS(svg, "text");
    label.setAttribute("class", "face-label");
    label.setAttribute("x", x);
    label.setAttribute("y", Math.max(fontSize, y - fontSize * 0.3));
    label.setAttribute("font-size", fontSize);
    label.textContent = String(index + 1);
    if (state.image.whole_photo) mark.append(crop);
    else mark.append(crop, box, label);
    marks.push(mark);
    const option = document.createElement("option");
    option.value = String(index);
    option.textContent = state.image.whole_photo ? "the whole photo"
      : `face ${index + 1}${index === 0 ? " (largest)" : ""}`;
    options.push(option);
  });
  group.replaceChildren(...marks);
  select.replaceChildren(...options);
  select.disabled = options.length < 2;
}

function chooseFace(index) {
  [...$("face-marks").children].forEach((mark, i) => {
    mark.setAttribute("class", i === index ? "chosen" : "");
  });
}

// ---------------------------------------------------------------------------------------
// wiring

function typingInField(event) {
  const tag = event.target.tagName;
  return tag === "INPUT" && event.target.type !== "range" || tag === "SELECT" || tag === "TEXTAREA";
}

function onKeyDown(event) {
  const key = event.key;
  const command = event.ctrlKey || event.metaKey;
  if (key === "Escape") { cancelRepair(); return; }
  if (command && key.toLowerCase() === "z") {
    event.preventDefault();
    if (event.shiftKey) redo(); else undo();
    return;
  }
  if (command && key.toLowerCase() === "y") { event.preventDefault(); redo(); return; }
  if (key === "Enter" && event.target.tagName !== "BUTTON" && event.target.tagName !== "A") {
    event.preventDefault();
    runRepair();
    return;
  }
  if (command || event.altKey || typingInField(event)) return;
  if (key === "[") changeBrush(0.8);
  else if (key === "]") changeBrush(1.25);
  else if (key === "b" || key === "B") setTool("brush");
  else if (key === "e" || key === "E") setTool("eraser");
  else if (key === "o" || key === "O") $("photo-input").click();
  else if ((key === "c" || key === "C") && !event.repeat) setComparing(true);
}

function onKeyUp(event) {
  if (event.key === "c" || event.key === "C") setComparing(false);
}

function bindControls() {
  const photoInput = $("photo-input");
  $("open-photo").addEventListener("click", () => photoInput.click());
  $("open-photo-2").addEventListener("click", () => photoInput.click());
  photoInput.addEventListener("change", () => {
    openPhoto(photoInput.files[0]);
    photoInput.value = "";
  });
  const maskInput = $("mask-input");
  $("open-mask").addEventListener("click", () => maskInput.click());
  maskInput.addEventListener("change", () => {
    openMask(maskInput.files[0]);
    maskInput.value = "";
  });

  $("tool-brush").addEventListener("click", () => setTool("brush"));
  $("tool-eraser").addEventListener("click", () => setTool("eraser"));
  $("brush-size").addEventListener("input", () => {
    $("brush-size-value").value = $("brush-size").value;
  });
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("clear").addEventListener("click", clearMask);
  $("preset-face").addEventListener("change", () => chooseFace(Number($("preset-face").value)));
  $("run").addEventListener("click", runRepair);
  $("cancel").addEventListener("click", cancelRepair);
  $("settings").addEventListener("submit", (event) => event.preventDefault());

  const overlay = $("overlay");
  overlay.addEventListener("pointerdown", pointerDown);
  overlay.addEventListener("pointermove", pointerMove);
  overlay.addEventListener("pointerup", pointerUp);
  overlay.addEventListener("pointercancel", pointerUp);
  overlay.addEventListener("pointerleave", () => $("cursor").setAttribute("visibility", "hidden"));

  $("close-up").addEventListener("click", toggleCloseUp);
  const compare = $("compare");
  compare.addEventListener("pointerdown", () => setComparing(true));
  for (const name of ["pointerup", "pointerleave", "pointercancel"]) {
    compare.addEventListener(name, () => setComparing(false));
  }
  window.addEventListener("blur", () => setComparing(false));
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keyup", onKeyUp);

  // drag and drop anywhere on the page
  let depth = 0;
  document.addEventListener("dragenter", (event) => {
    event.preventDefault();
    depth += 1;
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) document.body.classList.remove("dragging");
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    document.body.classList.remove("dragging");
    const file = event.dataTransfer.files[0];
    if (file) openPhoto(file);
  });
  updateHistoryButtons();
}


start();
