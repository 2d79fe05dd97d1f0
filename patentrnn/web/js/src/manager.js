// A widget manager for one page and one kernel: ipywidgets' ManagerBase over a KernelConnection,
// with only the widget modules this bundle carries (ipywidgets' examples/web3 shows the pattern).
import * as base from "@jupyter-widgets/base";
import { ManagerBase } from "@jupyter-widgets/base-manager";
import * as controls from "@jupyter-widgets/controls";
import anywidget from "anywidget";

import { base64ToBuffer, compatible, dependencyOrder } from "./state.js";

const { shims } = base;

// What the bundle can render: module name -> (version it provides, its classes).
export const MODULES = {
  "@jupyter-widgets/base": { version: base.JUPYTER_WIDGETS_VERSION, classes: base },
  "@jupyter-widgets/controls": { version: controls.JUPYTER_CONTROLS_VERSION, classes: controls },
  anywidget: { version: ANYWIDGET_VERSION, classes: anywidget(base) }, // eslint-disable-line no-undef
};

export class MissingWidget extends Error {}

// Where a widget could not be made (ipywidgets gives it an error model): one line for the visitor,
// not ipywidgets' error view, whose click shows a stack trace. The details are in the console.
class MissingView extends base.DOMWidgetView {
  render() {
    this.el.appendChild(problemLine(unshown(this.model.get("error"))));
  }
}

// What a visitor is told of a widget that could not be shown (never a stack: that goes to the console).
export function unshown(error) {
  const why = error instanceof MissingWidget ? `: it needs a widget this page lacks (${error.message})` : "";
  return `Part of this page could not be shown${why}. Reload the page to try again.`;
}

// One short line, in place of what could not be shown.
export function problemLine(text) {
  const line = document.createElement("p");
  line.className = "patentrnn-problem";
  line.setAttribute("role", "alert");
  line.textContent = text;
  return line;
}

export class PageManager extends ManagerBase {
  constructor(kernel) {
    super();
    this.kernel = kernel;
    kernel.registerCommTarget(this.comm_target_name, (comm, message) =>
      this.handle_comm_open(new shims.services.Comm(comm), message),
    );
  }

  async loadClass(className, moduleName, moduleVersion) {
    if (moduleName === "@jupyter-widgets/base" && className === "ErrorWidgetView") return MissingView;
    const module = MODULES[moduleName];
    const found = module && compatible(moduleVersion, module.version) && module.classes[className];
    if (!found) throw new MissingWidget(`${moduleName} ${moduleVersion}: ${className}`);
    return found;
  }

  async _create_comm(targetName, modelId, data, metadata, buffers) {
    const comm = this.kernel.createComm(targetName, modelId);
    if (data || metadata) comm.open(data, metadata, buffers);
    return new shims.services.Comm(comm);
  }

  async _get_comm_info() {
    const reply = await this.kernel.requestCommInfo({ target_name: this.comm_target_name });
    return reply.content.status === "ok" ? reply.content.comms : {};
  }

  // The models of a state the kernel wrote into the page (its last cell): every one of them is
  // live in the kernel, so each gets its comm at once, with no round trip (voila#145).
  // (ManagerBase.set_state would leave them all dead: base-manager 1.0.13 tests
  // live_comms for the key 'model_id', not the model's id.)
  // They are made a few at a time, each model after those it names, with the main thread given back in
  // between: Lighthouse's mobile TBT, medians of 3, 202 ms so against 226 ms in one go.
  async restore(state, perTask = 8) {
    const order = dependencyOrder(state.state);
    const models = [];
    for (let start = 0; start < order.length; start += perTask) {
      const batch = order.slice(start, start + perTask);
      models.push(...(await Promise.all(batch.map((id) => this.restoreModel(id, state.state[id])))));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return models;
  }

  async restoreModel(model_id, model) {
    if (model.buffers) {
      const buffers = model.buffers.map((b) => new DataView(base64ToBuffer(b.data)));
      base.put_buffers(model.state, model.buffers.map((b) => b.path), buffers);
    }
    const { model_name, model_module, model_module_version } = model;
    const comm = await this._create_comm(this.comm_target_name, model_id);
    return this.new_model({ model_id, model_name, model_module, model_module_version, comm }, model.state);
  }
}
