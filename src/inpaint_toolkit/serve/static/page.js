// What every part of the page shares: its state, the status line, the server's errors.

export const $ = (id) => document.getElementById(id);
export const SETTING_NAMES = ["iterations", "restarts", "samples", "seed", "loss", "prior_weight",
  "optimizer", "blend", "precision"];
export const NUMBER_SETTINGS = new Set(
  ["iterations", "restarts", "samples", "seed", "prior_weight"],
);

export const state = {
  config: null,
  image: null, // the upload's JSON: id, width, height, faces, ...
  photoUrl: null, // blob: URL of the photo as the server decoded it
  tool: "brush",
  ops: [], // mask operations; the first `applied` of them are in effect
  applied: 0,
  stroke: null, // the stroke being drawn
  job: null, // the running job's id
  resultUrls: [],
  damageBox: null, // [left, top, right, bottom] of the last mask sent, photo pixels
  closeUp: true, // results show the repaired area, or the whole photo
};

// ---------------------------------------------------------------------------------------
// the one-line status

export function say(text, kind = "idle") {
  const line = $("status");
  line.textContent = text;
  line.dataset.kind = kind;
  line.title = text;
}

export function showNotices(notices) {
  const list = $("notices");
  list.replaceChildren(...notices.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
}

// The server's error as one line: FastAPI's {"detail": "..."} or its list of field errors.
export async function errorLine(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (typeof body.detail === "string") {
      detail = body.detail;
    } else if (Array.isArray(body.detail)) {
      detail = body.detail.map((error) => {
        const where = error.loc.filter((part) => part !== "body").join(".");
        return `${where}: ${error.msg}`;
      }).join("; ");
      markInvalidSettings(body.detail);
    }
  } catch {
    // not JSON: keep the status line
  }
  return detail;
}

export function markInvalidSettings(errors) {
  for (const error of errors) {
    if (error.loc[0] === "body" && error.loc[1] === "settings" && error.loc.length > 2) {
      const field = $("settings").elements[error.loc[2]];
      if (field) field.setAttribute("aria-invalid", "true");
    }
  }
}

// The settings form as the API takes it; a blank field is left to the server's default.
export function readSettings() {
  const form = $("settings");
  const settings = {};
  for (const name of SETTING_NAMES) {
    const field = form.elements[name];
    field.removeAttribute("aria-invalid");
    const text = field.value.trim();
    if (text === "") continue; // the server's default
    settings[name] = NUMBER_SETTINGS.has(name) ? Number(text) : text;
  }
  return settings;
}

export function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
