// The mask: a canvas at the photo's own resolution; a pixel with any paint (alpha > 0) is
// damaged. It is kept as a list of operations (strokes, presets, an uploaded mask, clear)
// so that undo and redo replay them instead of storing full-size copies.
import { $, state, say, errorLine } from "./page.js";

export const MASK_COLOUR = "rgb(255, 48, 48)";

export function maskContext() {
  return $("mask-layer").getContext("2d", { willReadFrequently: false });
}

export function commit(op) {
  state.ops = state.ops.slice(0, state.applied);
  state.ops.push(op);
  state.applied = state.ops.length;
  updateHistoryButtons();
}

export function applyOp(context, op) {
  const { width, height } = context.canvas;
  if (op.type === "clear") {
    context.clearRect(0, 0, width, height);
  } else if (op.type === "stroke") {
    context.save();
    context.globalCompositeOperation = op.erase ? "destination-out" : "source-over";
    context.strokeStyle = MASK_COLOUR;
    context.fillStyle = MASK_COLOUR;
    context.lineWidth = op.width;
    context.lineCap = "round";
    context.lineJoin = "round";
    const [first, ...rest] = op.points;
    if (rest.length === 0) {
      context.beginPath();
      context.arc(first[0], first[1], op.width / 2, 0, 2 * Math.PI);
      context.fill();
    } else {
      context.beginPath();
      context.moveTo(first[0], first[1]);
      for (const [x, y] of rest) context.lineTo(x, y);
      context.stroke();
    }
    context.restore();
  } else if (op.type === "image") {
    if (op.replace) context.clearRect(0, 0, width, height);
    context.drawImage(op.canvas, 0, 0);
  }
}

export function redrawMask() {
  const context = maskContext();
  context.clearRect(0, 0, context.canvas.width, context.canvas.height);
  for (const op of state.ops.slice(0, state.applied)) applyOp(context, op);
  updateHistoryButtons();
}

export function undo() {
  if (state.applied === 0 || state.job) return;
  state.applied -= 1;
  redrawMask();
}

export function redo() {
  if (state.applied === state.ops.length || state.job) return;
  state.applied += 1;
  redrawMask();
}

export function clearMask() {
  if (!state.image || state.job) return;
  commit({ type: "clear" });
  redrawMask();
}

export function updateHistoryButtons() {
  const idle = !state.job && Boolean(state.image);
  $("undo").disabled = !idle || state.applied === 0;
  $("redo").disabled = !idle || state.applied === state.ops.length;
  $("clear").disabled = !idle;
}

// A canvas at the photo's size holding the given mask in the mask colour: `damaged(r, g,
// b, a)` says which pixels of `source` (drawn stretched to the photo's size) are damage.
export function maskCanvasFrom(source, damaged) {
  const canvas = document.createElement("canvas");
  canvas.width = state.image.width;
  canvas.height = state.image.height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.imageSmoothingEnabled = false;
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const data = pixels.data;
  for (let i = 0; i < data.length; i += 4) {
    const on = damaged(data[i], data[i + 1], data[i + 2], data[i + 3]);
    data[i] = 255; data[i + 1] = 48; data[i + 2] = 48; data[i + 3] = on ? 255 : 0;
  }
  context.putImageData(pixels, 0, 0);
  return canvas;
}

export async function applyPreset(name) {
  if (!state.image || state.job) return;
  const face = Number($("preset-face").value || 0);
  const seed = Number($("settings").elements.seed.value || 0);
  say(`Drawing the ${name} preset…`, "busy");
  try {
    const query = new URLSearchParams({ face, seed });
    const response = await fetch(`/api/images/${state.image.id}/presets/${name}?${query}`);
    if (!response.ok) throw new Error(await errorLine(response));
    const bitmap = await createImageBitmap(await response.blob());
    const canvas = maskCanvasFrom(bitmap, (r, g, b, a) => a > 127);
    bitmap.close();
    commit({ type: "image", canvas, replace: false });
    redrawMask();
    say(`Added the ${name} preset on ${$("preset-face").selectedOptions[0].textContent}.`, "done");
  } catch (error) {
    say(`Could not draw the preset: ${error.message}`, "error");
  }
}

export async function openMask(file) {
  if (!file || !state.image || state.job) return;
  try {
    const bitmap = await createImageBitmap(file);
    const canvas = maskCanvasFrom(bitmap, (r, g, b, a) => r + g + b > 381 && a > 127);
    bitmap.close();
    commit({ type: "image", canvas, replace: true });
    redrawMask();
    say(`Mask ${file.name} loaded (white = damaged). Edit it, then Repair.`, "done");
  } catch {
    say(`${file.name} is not an image the browser can read.`, "error");
  }
}

// The mask as the API takes it: a PNG at the photo's size, white = damaged, base64.
export async function maskPngBase64() {
  const source = $("mask-layer");
  const canvas = document.createElement("canvas");
  canvas.width = source.width;
  canvas.height = source.height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const painted = source.getContext("2d").getImageData(0, 0, source.width, source.height).data;
  const out = context.createImageData(source.width, source.height);
  const width = source.width;
  let [left, top, right, bottom] = [width, source.height, -1, -1];
  for (let i = 0; i < painted.length; i += 4) {
    const value = painted[i + 3] > 0 ? 255 : 0;
    if (value) {
      const pixel = i / 4;
      const x = pixel % width;
      const y = (pixel - x) / width;
      left = Math.min(left, x); right = Math.max(right, x);
      top = Math.min(top, y); bottom = Math.max(bottom, y);
    }
    out.data[i] = value; out.data[i + 1] = value; out.data[i + 2] = value; out.data[i + 3] = 255;
  }
  if (right < 0) return null;
  state.damageBox = [left, top, right + 1, bottom + 1];
  context.putImageData(out, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const dataUrl = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  return dataUrl.slice(dataUrl.indexOf(",") + 1);
}

// pointer -> photo coordinates
export function photoPoint(event) {
  const rect = $("overlay").getBoundingClientRect();
  return [
    (event.clientX - rect.left) * (state.image.width / rect.width),
    (event.clientY - rect.top) * (state.image.height / rect.height),
  ];
}

export function photoPixelsPerScreenPixel() {
  return state.image.width / $("overlay").getBoundingClientRect().width;
}

export function brushWidth() {
  return Number($("brush-size").value) * photoPixelsPerScreenPixel();
}

export function moveCursor(event) {
  const cursor = $("cursor");
  if (!state.image) return;
  const [x, y] = photoPoint(event);
  cursor.setAttribute("cx", x);
  cursor.setAttribute("cy", y);
  cursor.setAttribute("r", brushWidth() / 2);
  cursor.setAttribute("visibility", "visible");
}

export function pointerDown(event) {
  if (!state.image || state.job || event.button !== 0) return;
  event.preventDefault();
  $("overlay").setPointerCapture(event.pointerId);
  state.stroke = { type: "stroke", erase: state.tool === "eraser", width: brushWidth(),
    points: [photoPoint(event)] };
  applyOp(maskContext(), state.stroke);
}

export function pointerMove(event) {
  moveCursor(event);
  if (!state.stroke) return;
  const point = photoPoint(event);
  const last = state.stroke.points[state.stroke.points.length - 1];
  state.stroke.points.push(point);
  // draw just the new segment; the whole stroke is replayed on undo/redo
  applyOp(maskContext(), { ...state.stroke, points: [last, point] });
}

export function pointerUp() {
  if (!state.stroke) return;
  commit(state.stroke);
  state.stroke = null;
  redrawMask(); // the stroke as one path, exactly as undo and redo will replay it
}

export function setTool(tool) {
  state.tool = tool;
  $("tool-brush").setAttribute("aria-pressed", String(tool === "brush"));
  $("tool-eraser").setAttribute("aria-pressed", String(tool === "eraser"));
}

export function changeBrush(factor) {
  const slider = $("brush-size");
  const next = Math.round(Number(slider.value) * factor + (factor > 1 ? 1 : -1));
  slider.value = String(Math.min(Number(slider.max), Math.max(Number(slider.min), next)));
  $("brush-size-value").value = slider.value;
}

