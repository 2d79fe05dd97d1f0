"""The app's form in Gradio, for network_speed.py's --peer: the same controls and the same numpy model,
so that the two front ends are measured side by side on one shaped link. Gradio is not a dependency of
patentrnn: run it from a virtual environment of its own, with this checkout on the path.

    python -m venv /tmp/gradio && /tmp/gradio/bin/pip install gradio pooch platformdirs
    PYTHONPATH=. GRADIO_ANALYTICS_ENABLED=False /tmp/gradio/bin/python benchmarks/gradio_peer.py --port 7860
    python benchmarks/network_speed.py --pages serve,peer --peer http://127.0.0.1:7860/ --peer-name Gradio \\
        --peer-ready "#generate" --peer-click "#generate" --peer-output "#output textarea"
"""

from __future__ import annotations

import argparse

import gradio as gr

from patentrnn import load
from patentrnn.bundle import DEFAULT_MODEL, list_bundles
from patentrnn.web.labels import NO_COPY_LABEL, SAMPLINGS, STARTS
from patentrnn.web.query import DIVERSITY, NO_COPY, WORDS, Query


def page() -> gr.Blocks:
    defaults = Query()
    names = [row["name"] for row in list_bundles()]
    generators = {}

    def generate(seed, model, diversity, words, sampling, rng_seed, no_copy):
        generator = generators.setdefault(model, load(model))
        query = Query(model=model, seed=seed, diversity=diversity, words=int(words), sampling=sampling,
                      rng_seed=int(rng_seed) if str(rng_seed).strip() else None,
                      max_copy=NO_COPY if no_copy else None)  # fmt: skip
        result = generator.generate(**query.check().generate_arguments())
        return f"{result.seed_text} {result.generated_text}".strip()

    with gr.Blocks(title="patentrnn") as blocks:
        gr.Markdown("# patentrnn: write a new patent abstract")
        gr.Radio([label for label, _ in STARTS], value=STARTS[0][0], label="Start from")
        model = gr.Dropdown(names, value=DEFAULT_MODEL, label="Model")
        seed = gr.Textbox(defaults.seed, lines=3, label="Seed")
        diversity = gr.Slider(*DIVERSITY, value=defaults.diversity, step=0.1, label="Diversity")
        words = gr.Slider(*WORDS, value=defaults.words, step=1, label="Words")
        sampling = gr.Dropdown(SAMPLINGS, value=defaults.sampling, label="Sampling")
        rng_seed = gr.Textbox("", placeholder="random", label="rng seed")
        no_copy = gr.Checkbox(True, label=NO_COPY_LABEL)
        button = gr.Button("Generate", variant="primary", elem_id="generate")
        output = gr.Textbox(label="Generated", lines=6, elem_id="output")
        button.click(generate, [seed, model, diversity, words, sampling, rng_seed, no_copy], output)
    return blocks


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7860)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])  # no Google Fonts
    page().launch(server_name="127.0.0.1", server_port=parser.parse_args().port, theme=theme)
