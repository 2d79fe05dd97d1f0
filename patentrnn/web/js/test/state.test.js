import assert from "node:assert/strict";
import { test } from "node:test";

import { base64ToBuffer, compatible, dependencyOrder } from "../src/state.js";

test("a kernel's widget versions are answered by the same major (and 0.x minor) only", () => {
  assert.ok(compatible("2.0.0", "2.0.0"));
  assert.ok(compatible("~0.11.*", "0.11.0"));
  assert.ok(compatible("^2.1.0", "2.0.0"));
  assert.ok(!compatible("3.0.0", "2.0.0"));
  assert.ok(!compatible("~0.12.*", "0.11.0"));
  assert.ok(!compatible("", "2.0.0"));
});

test("each model comes after the models its state names, whatever the order given", () => {
  const models = {
    box: { state: { children: ["IPY_MODEL_ab", "IPY_MODEL_cd"], layout: "IPY_MODEL_ef" } },
    ab: { state: { layout: "IPY_MODEL_ef", style: "IPY_MODEL_12" } },
    cd: { state: {} },
    ef: { state: {} },
    12: { state: { description: "IPY_MODEL_99 is not a model here" } },
  };
  const order = dependencyOrder(models);
  assert.deepEqual([...order].sort(), Object.keys(models).sort());
  const before = (a, b) => order.indexOf(a) < order.indexOf(b);
  assert.ok(before("ab", "box") && before("cd", "box") && before("ef", "box") && before("ef", "ab") && before("12", "ab"));
});

test("a cycle does not loop", () => {
  const order = dependencyOrder({ aa: { state: { x: "IPY_MODEL_bb" } }, bb: { state: { x: "IPY_MODEL_aa" } } });
  assert.equal(order.length, 2);
});

test("base64 buffers decode to their bytes", () => {
  assert.deepEqual([...new Uint8Array(base64ToBuffer("AAEC/w=="))], [0, 1, 2, 255]);
});
