// The app page's own front end (patentrnn/jupyter/voila/templates/patentrnn/index.html.j2 loads it
// in place of Voilà's JupyterLab application): one kernel connection, ipywidgets' controls and
// anywidget, and the cells' widget outputs rendered where the template put them.
import "@jupyter-widgets/base/css/index.css";
import "@jupyter-widgets/controls/css/widgets.css";
import "./page.css";

import { KernelConnection } from "@jupyterlab/services/lib/kernel/default";
import { ServerConnection } from "@jupyterlab/services/lib/serverconnection";
import { Widget } from "@lumino/widgets";

import { PageManager, problemLine, unshown } from "./manager.js";
import { adopt } from "./socket.js";

const OUTPUT = 'script[type="application/vnd.voila.cell-output+json"]';
const VIEW = "application/vnd.jupyter.widget-view+json";
const STATE = "application/vnd.jupyter.widget-state+json";

// The cells' outputs as Voilà's template wrote them: [{script, output}].
export function outputs(root) {
  return [...root.querySelectorAll(OUTPUT)].map((script) => ({ script, output: JSON.parse(script.textContent) }));
}

function connect(config) {
  const early = window.patentrnnSocket; // (index.html.j2)
  const socket = early ? { WebSocket: adopt(early) } : {};
  const serverSettings = ServerConnection.makeSettings({ baseUrl: config.baseUrl, ...socket });
  return new KernelConnection({
    model: { id: config.kernelId, name: "python3" },
    serverSettings,
    clientId: early ? early.clientId : undefined,
    commsOverSubshells: "disabled", // Voilà's kernels refuse subshells, with a warning a page
  });
}

// Closing the tab frees the kernel at once (the server checks the _xsrf cookie's token).
function onUnload(config, kernel) {
  window.addEventListener("beforeunload", () => {
    const form = new FormData();
    const xsrf = document.cookie.match("\\b_xsrf=([^;]*)\\b");
    form.append("_xsrf", (xsrf && xsrf[1]) || "");
    navigator.sendBeacon(`${config.baseUrl}voila/api/shutdown/${kernel.id}`, form);
    kernel.dispose();
  });
}

// A box's view resolves before its children's: wait for every view in the tree.
async function rendered(view) {
  const children = view.children_views ? await Promise.all(view.children_views.views) : [];
  await Promise.all(children.map(rendered));
}

async function show(manager, { script, output }) {
  const host = document.createElement("div");
  host.className = "patentrnn-output";
  script.parentNode.insertBefore(host, script);
  if (output.output_type === "error") {
    host.appendChild(problemLine("The app could not start on the server. Reload the page to try again."));
    return;
  }
  const data = output.data || {};
  if (!data[VIEW]) return; // the app shows widgets only; its state and plain-text fallbacks are not for the eye
  try {
    const model = await manager.get_model(data[VIEW].model_id);
    const view = await manager.create_view(model);
    Widget.attach(view.luminoWidget, host);
    await rendered(view);
  } catch (error) {
    console.error("patentrnn: a widget could not be shown", error);
    host.appendChild(problemLine(unshown(error)));
  }
}

export async function start() {
  const config = JSON.parse(document.getElementById("jupyter-config-data").textContent);
  const cells = document.getElementById("rendered_cells");
  const kernel = connect(config);

  const manager = new PageManager(kernel);
  onUnload(config, kernel);
  const found = outputs(cells);
  const state = found.find(({ output }) => output.data && output.data[STATE]);
  try {
    await (state ? manager.restore(state.output.data[STATE]) : manager._loadFromKernel());
  } catch (error) {
    console.error("patentrnn: the widgets' state could not be restored", error);
  }
  for (const item of found) await show(manager, item);
  cells.style.display = "";
  document.body.classList.add("patentrnn-live");
  if (window.patentrnnLive) window.patentrnnLive(); // the preview's pending click (index.html.j2)
  return manager;
}

window.patentrnnFrontEnd = start();
