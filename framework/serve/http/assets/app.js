// The page of `xp serve`: classifies and draws attention as the name is typed, fills
// masked characters, generates names. Plain JavaScript, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const status = (text) => { $("status").textContent = text || ""; };

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function element(tag, attrs, text) {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function showLanguages(result) {
  const box = $("languages");
  box.replaceChildren();
  if (result.error) { status(result.error); return; }
  for (const { label, probability } of result.top) {
    const row = element("div", { class: "bar", "data-label": label });
    row.append(element("span", { class: "label" }, label));
    const track = element("div", { class: "track", role: "img", "aria-label": `${label} ${(probability * 100).toFixed(1)}%` });
    const fill = element("div", { class: "fill" });
    fill.style.width = `${(probability * 100).toFixed(1)}%`;
    track.append(fill);
    row.append(track, element("span", { class: "p" }, `${(probability * 100).toFixed(1)}%`));
    box.append(row);
  }
}

// One head's map on a canvas: tokens along both axes, white (0) to blue (1).
function drawMap(canvas, weights, tokens) {
  const n = tokens.length, cell = 22, margin = 44;
  const size = margin + n * cell + 4;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = size * ratio; canvas.height = size * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.fillStyle = "#fff"; g.fillRect(0, 0, size, size);
  for (let q = 0; q < n; q++) {
    for (let k = 0; k < n; k++) {
      const v = Math.round(255 * (1 - Math.min(1, Math.max(0, weights[q][k]))));
      g.fillStyle = `rgb(${v},${v},255)`;
      g.fillRect(margin + k * cell, margin + q * cell, cell, cell);
    }
  }
  g.fillStyle = "#1b1f24"; g.font = "11px system-ui, sans-serif";
  g.textAlign = "right"; g.textBaseline = "middle";
  tokens.forEach((t, i) => g.fillText(t, margin - 4, margin + i * cell + cell / 2));
  g.save();
  tokens.forEach((t, i) => {
    g.save();
    g.translate(margin + i * cell + cell / 2, margin - 4);
    g.rotate(-Math.PI / 2);
    g.textAlign = "left";
    g.fillText(t, 0, 0);
    g.restore();
  });
  g.restore();
}

function showAttention(maps) {
  const box = $("attention");
  box.replaceChildren();
  $("attention-pass").textContent = `(${maps.objective} pass, ${maps.layers} layers x ${maps.heads} heads)`;
  maps.maps.forEach((layer, l) => layer.forEach((head, h) => {
    const figure = element("figure", { class: "map" });
    const canvas = element("canvas", { role: "img", "aria-label": `layer ${l + 1} head ${h + 1}` });
    drawMap(canvas, head, maps.tokens);
    figure.append(canvas, element("figcaption", {}, `layer ${l + 1}, head ${h + 1}`));
    box.append(figure);
  }));
}

let typed = 0;
async function onName() {
  const name = $("name").value.trim();
  const mine = ++typed;
  if (!name) { $("languages").replaceChildren(); $("attention").replaceChildren(); status(""); return; }
  try {
    const [classified, maps] = await Promise.all([
      post("/api/classify", { names: [name], k: 5 }),
      post("/api/attention", { name }).catch((e) => ({ error: e.message })),
    ]);
    if (mine !== typed) return; // a newer keystroke won
    status("");
    showLanguages(classified.results[0]);
    if (maps.error) { $("attention").replaceChildren(element("p", { class: "muted" }, maps.error)); }
    else showAttention(maps);
  } catch (e) {
    if (mine === typed) status(e.message);
  }
}

let timer;
$("name").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(onName, 120); });
$("classify-form").addEventListener("submit", (e) => { e.preventDefault(); onName(); });

$("fill-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const box = $("fill-result");
  box.replaceChildren();
  try {
    const filled = await post("/api/fill", { name: $("fill-input").value, k: 5 });
    box.append(element("p", { class: "filled" }, filled.filled));
    filled.masks.forEach((candidates, i) => {
      const row = element("div", { class: "candidates", "data-mask": String(i) });
      row.append(element("strong", {}, `_${i + 1}:`));
      candidates.forEach((c) => row.append(element("span", {}, `${c.label} ${(c.probability * 100).toFixed(0)}%`)));
      box.append(row);
    });
    status("");
  } catch (err) { status(err.message); }
});

$("generate-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const list = $("generated");
  list.replaceChildren();
  try {
    const body = {
      prefix: $("prefix").value,
      count: Number($("count").value),
      temperature: Number($("temperature").value),
      seed: Number($("seed").value),
    };
    const { names } = await post("/api/generate", body);
    names.forEach((n) => list.append(element("li", {}, n)));
    status("");
  } catch (err) { status(err.message); }
});

fetch("/api/model").then((r) => r.json()).then((m) => {
  $("model-name").textContent = `${m.experiment} (${Object.keys(m.objectives).join(", ")})`;
}).catch(() => {});
