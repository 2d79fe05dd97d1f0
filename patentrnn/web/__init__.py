"""The web page: ipywidgets and an anywidget output view wired to the generator, served by Voilà.

``notebooks/app.ipynb`` only does ``App().show()``; everything else is here, where pytest drives it:
set the widgets (``app.form``), click, read ``app.output`` (an ``OutputView``: ``app.output.words()``,
``app.output.text()``).

The page keeps the reference demo's form (seed text or a random real abstract, diversity 0.5–5, 10–100
words) and adds a start "From a title" (title models write a whole abstract, "Until it ends"), a start
"Analyse text" (any text, coloured by rank, with its perplexity), a model dropdown, optional top-k /
top-p, an rng seed, the no-copy option, a permalink and a .txt download. Each word the model scored has
a card with its probability, rank and the model's top 5; clicking an alternative branches (the text up
to that word is kept, the word replaced, generation goes on with the same settings and a new rng seed)
and Undo goes back. URL parameters (``query.Query``) fill the form and run on load; invalid values are
reported, not obeyed.

- ``app``: the controller (actions, branching, Undo, links);
- ``form``: the widgets, read into a checked ``query.Query`` and filled from one;
- ``query``: every value the form or a URL accepts, defined once;
- ``views``: a result as the output view (``View``, the page's one view state);
- ``widget``: the output view's anywidget (``widget.js``, ``widget.css``);
- ``voila``: the query string under Voilà, and kernel log lines to the server's log;
- ``labels`` and ``preview``: what the controls say, and the form drawn in plain HTML for the first paint;
- ``js/``: the page's own front end (esbuild), which draws the widgets in the browser.

``App`` is imported on first use: the server draws the preview without loading ipywidgets.
"""

from .query import seed_text

__all__ = ["App", "seed_text"]


def __getattr__(name: str):
    if name == "App":
        from .app import App

        return App
    raise AttributeError(name)
