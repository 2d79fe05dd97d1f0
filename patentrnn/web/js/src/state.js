// The page's widget state, without the DOM (node --test runs these: test/state.test.js).

// Does the bundle's `provided` version answer a kernel's `requested` one ("2.0.0", "~0.11.*")? The same
// major version, and for 0.x the same minor too.
export function compatible(requested, provided) {
  const want = String(requested).replace(/^[~^=]/, "").split(".");
  const have = provided.split(".");
  return want[0] === have[0] && (want[0] !== "0" || want[1] === have[1]);
}

// Model ids with every model after the models its state names ("IPY_MODEL_<id>").
export function dependencyOrder(models) {
  const order = [];
  const seen = new Set();
  const visit = (id) => {
    if (seen.has(id) || !models[id]) return;
    seen.add(id);
    for (const [, named] of JSON.stringify(models[id].state).matchAll(/IPY_MODEL_([0-9a-f]+)/g)) visit(named);
    order.push(id);
  };
  Object.keys(models).forEach(visit);
  return order;
}

export function base64ToBuffer(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer;
}
