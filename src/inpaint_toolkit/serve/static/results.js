// Repairing: start a job, follow its progress, show the versions (close-up, compare).
import { $, state, say, showNotices, errorLine, readSettings } from "./page.js";
import { updateHistoryButtons, maskPngBase64 } from "./mask.js";

export async function runRepair() {
  if (!state.image || state.job) return;
  const mask = await maskPngBase64();
  if (mask === null) {
    say("Nothing is painted yet: paint the damage, pick a preset or upload a mask.", "error");
    return;
  }
  say("Starting the repair…", "busy");
  const response = await fetch("/api/jobs", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ image_id: state.image.id, mask, settings: readSettings() }),
  });
  if (!response.ok) {
    say(`Could not start: ${await errorLine(response)}`, "error");
    return;
  }
  const job = await response.json();
  state.job = job.id;
  setRunning(true);
  clearResults();
  poll();
}

export function setRunning(running) {
  $("run").hidden = running;
  $("cancel").hidden = !running;
  $("cancel").disabled = false;
  $("progress").hidden = !running;
  $("progress").value = 0;
  $("open-photo").disabled = running;
  $("open-mask").disabled = running || !state.image;
  for (const button of document.querySelectorAll("#presets button")) button.disabled = running;
  updateHistoryButtons();
}

export async function poll() {
  if (!state.job) return;
  let job;
  try {
    const response = await fetch(`/api/jobs/${state.job}`);
    if (!response.ok) throw new Error(await errorLine(response));
    job = await response.json();
  } catch (error) {
    state.job = null;
    setRunning(false);
    say(`Lost the job: ${error.message}`, "error");
    return;
  }
  if (job.state === "running") {
    const progress = $("progress");
    progress.max = job.total;
    progress.value = job.done;
    if (job.phase === "cancelling") say("Cancelling…", "busy");
    else if (job.done === 0) say("Starting the search…", "busy");
    else if (job.done >= job.total) say("Pasting the repairs into the photo…", "busy");
    else say(`Searching: ${job.done} / ${job.total} iterations`, "busy");
    setTimeout(poll, 300);
    return;
  }
  const id = state.job;
  state.job = null;
  setRunning(false);
  showNotices([...state.image.notices, ...job.notices]);
  if (job.state === "done") {
    await showResults(id, job);
    const best = job.results[0].loss;
    const count = job.results.length === 1 ? "1 version" : `${job.results.length} versions`;
    if (best === null) {
      say(`Done in ${job.seconds} s: the damage is outside every face's square, so OpenCV `
        + "filled it, once: the model repairs faces only. Hold C to compare.", "done");
    } else {
      say(`Done in ${job.seconds} s: ${count}, best loss ${best.toFixed(4)}. Hold C to compare.`,
        "done");
    }
  } else if (job.state === "cancelled") {
    say(`Cancelled (${job.message}).`, "idle");
  } else {
    say(`The repair failed: ${job.message}`, "error");
  }
}

export async function cancelRepair() {
  if (!state.job) return;
  $("cancel").disabled = true;
  say("Cancelling…", "busy");
  const response = await fetch(`/api/jobs/${state.job}/cancel`, { method: "POST" });
  if (!response.ok) say(`Could not cancel: ${await errorLine(response)}`, "error");
}

export function clearResults() {
  for (const url of state.resultUrls) URL.revokeObjectURL(url);
  state.resultUrls = [];
  $("result-list").replaceChildren();
  $("results").hidden = true;
}

export async function showResults(jobId, job) {
  const stem = "repaired";
  const cards = await Promise.all(job.results.map(async (result, rank) => {
    const url = `/api/jobs/${jobId}/results/${result.index}`;
    const response = await fetch(url);
    if (!response.ok) throw new Error(await errorLine(response));
    const blobUrl = URL.createObjectURL(await response.blob());
    state.resultUrls.push(blobUrl);
    const figure = document.createElement("figure");
    figure.className = "result";
    const pair = document.createElement("div");
    pair.className = "pair";
    const repaired = document.createElement("img");
    repaired.src = blobUrl;
    repaired.alt = `repaired version ${rank + 1}`;
    const original = document.createElement("img");
    original.src = state.photoUrl;
    original.alt = "the original photo";
    original.className = "original";
    pair.append(repaired, original);
    frame(pair);
    const caption = document.createElement("figcaption");
    const label = document.createElement("span");
    label.className = "rank";
    label.textContent = rank === 0 ? "#1 best" : `#${rank + 1}`;
    const loss = document.createElement("span");
    loss.className = "loss";
    loss.textContent = result.loss === null ? "filled by OpenCV" : `loss ${result.loss.toFixed(4)}`;
    const link = document.createElement("a");
    link.href = `${url}?download=true`;
    link.download = `${stem}-${rank + 1}.png`;
    link.textContent = "Download PNG";
    link.className = "download";
    caption.append(label, loss, link);
    figure.append(pair, caption);
    return figure;
  }));
  $("result-list").replaceChildren(...cards);
  $("results").hidden = false;
  $("results").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// The close-up: the damage's box grown to about twice its size (and to a square-ish
// frame), the photo scaled and shifted in CSS so that the box fills the card.
export function closeUpBox() {
  const { width, height } = state.image;
  const [left, top, right, bottom] = state.damageBox;
  const side = Math.min(Math.max(width, height),
    Math.max(96, 2 * Math.max(right - left, bottom - top)));
  const w = Math.min(width, Math.max(side, right - left));
  const h = Math.min(height, Math.max(side * 0.8, bottom - top));
  const x = Math.min(Math.max(0, (left + right) / 2 - w / 2), width - w);
  const y = Math.min(Math.max(0, (top + bottom) / 2 - h / 2), height - h);
  return [x, y, w, h];
}

export function frame(pair) {
  const images = pair.querySelectorAll("img");
  if (!state.closeUp || !state.damageBox) {
    pair.style.aspectRatio = `${state.image.width} / ${state.image.height}`;
    for (const image of images) image.removeAttribute("style");
    return;
  }
  const [x, y, w, h] = closeUpBox();
  pair.style.aspectRatio = `${w} / ${h}`;
  for (const image of images) {
    image.style.width = `${(100 * state.image.width) / w}%`;
    image.style.maxWidth = "none";
    image.style.left = `${(-100 * x) / w}%`;
    image.style.top = `${(-100 * y) / h}%`;
  }
}

export function toggleCloseUp() {
  state.closeUp = !state.closeUp;
  $("close-up").setAttribute("aria-pressed", String(state.closeUp));
  for (const pair of document.querySelectorAll(".result .pair")) frame(pair);
}

export function setComparing(on) {
  document.body.classList.toggle("comparing", on);
}

