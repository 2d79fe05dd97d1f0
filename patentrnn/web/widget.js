// The output view of patentrnn's page (see widget.py for the view's JSON).
// Every piece of text goes in through textContent or a text node, never innerHTML:
// words come from visitors, URLs and the corpus.

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

// The words of one block as runs of text: the given words, then the network's (red); a word the
// model scored is a focusable span that knows its block and position (its card's key).
export function wordsOf(block, blockIndex, punctuation) {
  const parts = [];
  let run = null;
  block.words.forEach((item, index) => {
    const kind = item.net ? "generated" : "given";
    const space = index > 0 && !punctuation.has(item.w);
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

// The perplexity line and the table of rank shares, as nodes.
export function summaryOf(view, buckets) {
  const rows = view.shares || [];
  const parts = [];
  if (view.perplexity !== null && view.perplexity !== undefined) {
    parts.push(make("div", "perplexity", `Perplexity under this model: ${view.perplexity.toFixed(1)}`));
  }
  if (rows.length) {
    const table = make("table", "shares");
    const head = make("tr");
    head.append(make("th", "", "share of words"));
    buckets.forEach((name, i) => head.append(make("th", `b${i}`, name)));
    table.append(head);
    rows.forEach((row) => {
      const line = make("tr", `share-${row.label}`);
      line.append(make("th", "", row.label));
      row.shares.forEach((share) => line.append(make("td", "", `${Math.round(share * 100)}%`)));
      table.append(line);
    });
    parts.push(table);
  }
  return parts;
}

// A scored word's card: its probability and rank, and the model's top 5 as buttons with bars;
// ``choose(name, event)`` runs when one is clicked.
export function cardOf(item, choose) {
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
    button.addEventListener("click", (event) => choose(name, event));
    list.append(button);
  });
  return [head, facts, list];
}

// The output: a title line (title models), then one text, or blocks side by side (random mode:
// seed, generated, actual).
export function bodyOf(view, punctuation) {
  const titles = view.blocks.filter((block) => block.name === "title");
  const blocks = view.blocks.filter((block) => block.name !== "title");
  const index = (block) => view.blocks.indexOf(block);
  const parts = titles.map((block) => {
    const line = make("h3", "title-line");
    line.append(make("span", "title-label", `${block.title}: `), ...wordsOf(block, index(block), punctuation));
    return line;
  });
  let content;
  if (blocks.length > 1) {
    content = make("div", "blocks");
    blocks.forEach((block) => {
      const column = make("div", `block ${block.name}`);
      column.append(make("h4", "", block.title || ""));
      const text = make("div", "block-text");
      text.append(...wordsOf(block, index(block), punctuation));
      column.append(text);
      content.append(column);
    });
  } else {
    content = make("div", "text");
    if (blocks.length) {
      if (blocks[0].title) content.append(make("h4", "", blocks[0].title));
      content.append(...wordsOf(blocks[0], index(blocks[0]), punctuation));
    }
  }
  return [...parts, content];
}

// Puts the card below the word, or above it when there is no room below; false when the word is
// out of sight. Fixed to the window: Voilà's panels clip (overflow) anything absolute that sticks out.
export function placeCard(card, word) {
  const rect = word.getBoundingClientRect();
  if (rect.bottom < 0 || rect.top > window.innerHeight) return false;
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
  return true;
}

// The colour toggle, the rank legend and the Undo button.
export function toolbarOf() {
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
  return { toolbar, box, legend, undo };
}

function render({ model, el }) {
  const punctuation = new Set(model.get("punctuation")); // corpus.PUNCTUATION
  const cardId = `patentrnn-card-${++views}`;
  el.classList.add("patentrnn-view");

  const { toolbar, box, legend, undo } = toolbarOf();
  const summary = make("div", "summary");
  const body = make("div", "body");
  const card = make("div", "card");
  card.id = cardId;
  card.setAttribute("role", "tooltip");
  card.hidden = true;
  el.append(toolbar, summary, body);

  // the widget's model is the one view state: a card reads its word from it
  let current = null; // the word whose card is open
  let hideTimer = null;
  let refocus = false;
  let dismissed = null; // the word whose card Escape closed: the focus going back to it keeps it closed

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
    dismissed = null;
    clearTimeout(hideTimer);
    if (current === word && !card.hidden) return;
    hide();
    const item = model.get("view").blocks[+word.dataset.block].words[+word.dataset.index];
    const branch = (name, event) => {
      body.classList.add("busy");
      refocus = event.detail === 0; // Enter or Space: keep the keyboard on the text after the redraw
      model.send({ event: "branch", block: +word.dataset.block, index: +word.dataset.index, word: name });
    };
    card.replaceChildren(...cardOf(item, branch));
    // right after the word: Tab goes from the word into its card
    word.after(card);
    card.hidden = false;
    word.setAttribute("aria-describedby", cardId);
    current = word;
    place();
  }

  function place() {
    if (current && !placeCard(card, current)) hide();
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
    if (event.target.classList.contains("word") && event.target !== dismissed) show(event.target);
  });
  el.addEventListener("focusout", (event) => {
    if (event.target === dismissed) dismissed = null;
    if (!card.contains(event.relatedTarget) && event.relatedTarget !== current) laterHide();
  });
  card.addEventListener("mouseenter", () => clearTimeout(hideTimer));
  card.addEventListener("mouseleave", laterHide);
  el.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && current) {
      const word = current;
      hide();
      dismissed = word;
      word.focus();
    }
  });

  function draw() {
    hide();
    const view = model.get("view");
    const colour = model.get("colour") || view.kind === "analysis";
    box.checked = colour;
    box.disabled = view.kind === "analysis";
    el.classList.toggle("by-rank", colour);
    el.classList.toggle("empty", !view.blocks.length);
    undo.disabled = !model.get("can_undo");
    body.classList.remove("busy");
    legend.replaceChildren(...model.get("buckets").map((name, i) => make("span", `chip b${i}`, name)));
    body.replaceChildren(...bodyOf(view, punctuation));
    summary.replaceChildren(...summaryOf(view, model.get("buckets")));
    if (refocus) {
      refocus = false;
      const chosen = body.querySelector(".word.chosen");
      if (chosen) chosen.focus();
    }
  }

  // a new output below the screen's edge (a phone, after Generate) is brought into view
  function reveal() {
    if (el.getBoundingClientRect().top > window.innerHeight - 80) el.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  model.on("change:view", () => {
    draw();
    reveal();
  });
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
