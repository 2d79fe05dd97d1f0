// The output view of patentrnn's page (see widget.py for the view's JSON).
// Every piece of text goes in through textContent or a text node, never innerHTML:
// words come from visitors, URLs and the corpus.

const PUNCTUATION = new Set([".", ",", ";", "?"]);
let views = 0;

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(p) {
  const value = p * 100;
  if (value >= 10) return value.toFixed(0) + "%";
  if (value >= 0.1) return value.toFixed(1) + "%";
  return value.toPrecision(1) + "%";
}

function render({ model, el }) {
  const cardId = `patentrnn-card-${++views}`;
  el.classList.add("patentrnn-view");

  const toolbar = make("div", "toolbar");
  const toggle = make("label", "colour-toggle");
  const box = make("input", "colour-box");
  box.type = "checkbox";
  toggle.append(box, document.createTextNode(" Colour by rank"));
  const legend = make("div", "legend");
  legend.setAttribute("aria-label", "Rank colours: the model's top 10, top 100, top 1,000, beyond");
  const undo = make("button", "undo", "↶ Undo");
  undo.type = "button";
  undo.title = "Back to the text before";
  toolbar.append(toggle, legend, undo);
  const summary = make("div", "summary");
  const body = make("div", "body");
  const card = make("div", "card");
  card.id = cardId;
  card.setAttribute("role", "tooltip");
  card.hidden = true;
  el.append(toolbar, summary, body);

  let view = model.get("view");
  let entries = []; // [block][index] -> entry, for the card
  let current = null; // the word whose card is open
  let hideTimer = null;
  let refocus = false;

  box.addEventListener("change", () => {
    model.set("colour", box.checked);
    model.save_changes();
  });
  undo.addEventListener("click", () => model.send({ event: "undo" }));

  function hide() {
    clearTimeout(hideTimer);
    card.hidden = true;
    if (current) current.removeAttribute("aria-describedby");
    current = null;
  }

  function laterHide() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => {
      if (!card.contains(document.activeElement) && document.activeElement !== current) hide();
    }, 250);
  }

  function show(word) {
    clearTimeout(hideTimer);
    if (current === word && !card.hidden) return;
    hide();
    const item = entries[+word.dataset.block][+word.dataset.index];
    const head = make("div", "card-head");
    head.append(make("span", "card-word", item.w));
    const facts = make("div", "card-facts");
    facts.append(
      make("span", "card-probability", `probability ${percent(item.p)}`),
      document.createTextNode(" · "),
      make("span", "card-rank", `rank ${item.r.toLocaleString("en")}`),
    );
    const list = make("div", "alternatives");
    list.append(make("div", "alternatives-title", "The model's top 5 here (click to branch):"));
    const best = item.alt.length ? item.alt[0][1] : 1;
    item.alt.forEach(([name, p]) => {
      const button = make("button", "alternative" + (name === item.w ? " same" : ""));
      button.type = "button";
      const track = make("span", "bar-track");
      const bar = make("span", "bar");
      bar.style.width = `${Math.max(2, (100 * p) / best)}%`;
      track.append(bar);
      button.append(make("span", "alternative-word", name), track, make("span", "alternative-p", percent(p)));
      button.addEventListener("click", (event) => {
        body.classList.add("busy");
        refocus = event.detail === 0; // Enter or Space: keep the keyboard on the text after the redraw
        model.send({ event: "branch", block: +word.dataset.block, index: +word.dataset.index, word: name });
      });
      list.append(button);
    });
    card.replaceChildren(head, facts, list);
    // right after the word: Tab goes from the word into its card
    word.after(card);
    card.hidden = false;
    word.setAttribute("aria-describedby", cardId);
    current = word;
    place();
  }

  // Fixed to the window: Voilà's panels clip (overflow) anything absolute that sticks out.
  // Below the word, or above it when there is no room below.
  function place() {
    if (!current) return;
    const rect = current.getBoundingClientRect();
    if (rect.bottom < 0 || rect.top > window.innerHeight) return hide();
    const width = card.offsetWidth;
    const height = card.offsetHeight;
    const left = Math.max(8, Math.min(rect.left, window.innerWidth - width - 8));
    const below = rect.bottom + 4;
    const top = below + height > window.innerHeight && rect.top - height - 4 > 0 ? rect.top - height - 4 : below;
    card.style.left = `${left}px`;
    card.style.top = `${top}px`;
    // Lumino panels (CSS containment) can be the containing block of a fixed element: correct
    // by where the card actually landed
    const landed = card.getBoundingClientRect();
    card.style.left = `${2 * left - landed.left}px`;
    card.style.top = `${2 * top - landed.top}px`;
  }

  // a scroll (Voilà scrolls an inner panel) or a resize moves the word: the card follows
  let placing = false;
  const onMove = () => {
    if (current && !placing) {
      placing = true;
      requestAnimationFrame(() => {
        placing = false;
        place();
      });
    }
  };
  document.addEventListener("scroll", onMove, true);
  window.addEventListener("resize", onMove);

  body.addEventListener("mouseover", (event) => {
    const word = event.target.closest(".word");
    if (word && body.contains(word)) show(word);
  });
  body.addEventListener("mouseout", (event) => {
    if (event.target.closest(".word") && !card.contains(event.relatedTarget)) laterHide();
  });
  body.addEventListener("click", (event) => {
    const word = event.target.closest(".word");
    if (word) show(word); // a tap on a touch screen
  });
  body.addEventListener("focusin", (event) => {
    if (event.target.classList.contains("word")) show(event.target);
  });
  el.addEventListener("focusout", (event) => {
    if (!card.contains(event.relatedTarget) && event.relatedTarget !== current) laterHide();
  });
  card.addEventListener("mouseenter", () => clearTimeout(hideTimer));
  card.addEventListener("mouseleave", laterHide);
  el.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && current) {
      const word = current;
      hide();
      word.focus();
    }
  });

  function words(block, blockIndex) {
    const parts = [];
    let run = null;
    block.words.forEach((item, index) => {
      const kind = item.net ? "generated" : "given";
      const space = index > 0 && !PUNCTUATION.has(item.w);
      if (space) run.append(" "); // (between two runs: outside the new one)
      if (!run || run.dataset.kind !== kind) {
        run = make("span", kind);
        run.dataset.kind = kind;
        parts.push(run);
      }
      let node;
      if (item.r !== null) {
        node = make("span", `word b${item.b}` + (item.chosen ? " chosen" : ""), item.w);
        node.tabIndex = 0;
        node.dataset.rank = String(item.r);
        node.dataset.block = String(blockIndex);
        node.dataset.index = String(index);
      } else if (item.copied !== null) {
        node = make("mark", "", item.w);
      } else {
        node = document.createTextNode(item.w);
      }
      if (item.copied !== null) node.setAttribute("data-copied", String(item.copied));
      run.append(node);
    });
    return parts;
  }

  function drawSummary() {
    const rows = view.shares || [];
    const parts = [];
    if (view.perplexity !== null && view.perplexity !== undefined) {
      parts.push(make("div", "perplexity", `Perplexity under this model: ${view.perplexity.toFixed(1)}`));
    }
    if (rows.length) {
      const table = make("table", "shares");
      const head = make("tr");
      head.append(make("th", "", "share of words"));
      model.get("buckets").forEach((name, i) => head.append(make("th", `b${i}`, name)));
      table.append(head);
      rows.forEach((row) => {
        const line = make("tr", `share-${row.label}`);
        line.append(make("th", "", row.label));
        row.shares.forEach((share) => line.append(make("td", "", `${Math.round(share * 100)}%`)));
        table.append(line);
      });
      parts.push(table);
    }
    summary.replaceChildren(...parts);
  }

  function draw() {
    hide();
    view = model.get("view");
    const colour = model.get("colour") || view.kind === "analysis";
    box.checked = colour;
    box.disabled = view.kind === "analysis";
    el.classList.toggle("by-rank", colour);
    el.classList.toggle("empty", !view.blocks.length);
    undo.disabled = !model.get("can_undo");
    body.classList.remove("busy");
    legend.replaceChildren(...model.get("buckets").map((name, i) => make("span", `chip b${i}`, name)));
    entries = view.blocks.map((block) => block.words);
    let content;
    if (view.blocks.length > 1) {
      content = make("div", "blocks");
      view.blocks.forEach((block, i) => {
        const column = make("div", `block ${block.name}`);
        column.append(make("h4", "", block.title || ""));
        const text = make("div", "block-text");
        text.append(...words(block, i));
        column.append(text);
        content.append(column);
      });
    } else {
      content = make("div", "text");
      if (view.blocks.length) content.append(...words(view.blocks[0], 0));
    }
    body.replaceChildren(content);
    drawSummary();
    if (refocus) {
      refocus = false;
      const chosen = body.querySelector(".word.chosen");
      if (chosen) chosen.focus();
    }
  }

  model.on("change:view", draw);
  model.on("change:colour", draw);
  model.on("change:can_undo", () => {
    undo.disabled = !model.get("can_undo");
  });
  draw();
  return () => {
    clearTimeout(hideTimer);
    document.removeEventListener("scroll", onMove, true);
    window.removeEventListener("resize", onMove);
  };
}

export default { render };
