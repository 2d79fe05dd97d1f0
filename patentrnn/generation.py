"""Generate patent abstracts: the public Python API.

    >>> import patentrnn
    >>> generator = patentrnn.load()            # the default model
    >>> result = generator.generate("A neural network", words=30, rng_seed=1)
    >>> result.generated_text
    >>> generator.generate(words=50)             # random start: a real test abstract

Two modes, as the reference demo: from a seed text (cleaned and tokenized like
training text; unknown words are reported), or from a random 50-word window of a
test-split abstract of the model's corpus, with the real continuation beside the
generated one. Never imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from dataclasses import asdict

from . import originality as originality_module
from .bundle import DEFAULT_MODEL, Bundle, check_name, load_bundle, models_dir
from .errors import InputError
from .logits import never_written
from .originality.guard import ALL_BLOCKED, NO_COPY_CHECK, CopyGuard
from .result import (
    CUT_NOTE,
    DEFAULT_WORDS,
    MAX_RNG_SEED,
    MAX_SEED_WORDS,
    MAX_WORDS,
    UNTIL_END_LIMIT,
    GeneratedWord,
    Generation,
    Run,
    Settings,
    _validate_max_copy,
    _validate_rng_seed,
    _validate_words,
)
from .runtime import Cursor, Runtime
from .sampling import DEFAULT_DIVERSITY, ROWS, Sampler, SamplingConfig
from .scoring import Score, score_rows, score_text
from .scoring import ranks as rank_of  # (generation's own name `ranks` is a list)
from .starts import Start, Starts
from .topic import Topic, Topics
from .vocabulary import END_ID

__all__ = ["MAX_RNG_SEED", "MAX_WORDS", "Generation", "Generator", "load"]

NO_TOPIC = "The title's topic was not used: that needs the model's corpus, which is not available here."


class Generator:
    """Generates text from one bundle. Create with ``patentrnn.load(name)``."""

    def __init__(self, bundle: Bundle):
        self.runtime = Runtime(bundle, pad_to=ROWS)
        # The runtime holds float32 copies of what it needs: drop the stored arrays.
        self.bundle = dataclasses.replace(bundle, weights={})
        self.name = bundle.name
        self.vocabulary = bundle.vocabulary
        self.titles = self.vocabulary.has_titles  # trained with TrainConfig.titles
        # (a title model's <end> is never drawn as a word: ``_write`` draws whether to end apart)
        self.sampler = Sampler(len(self.vocabulary), banned=never_written(self.titles))
        self.starts = Starts(self.bundle)
        self._topics: Topics | None = None  # (made from the originality index when first needed)

    # --- seeds ----------------------------------------------------------------------

    def prepare_seed(self, seed: str) -> tuple[list[str], list[str], list[str]]:
        """Seed text to ``(words the network reads, unknown words, notes)``."""
        return self.starts.seed(seed)

    def prepare_title(self, title: str) -> tuple[list[str], list[int]]:
        """Title text to ``(its words, the ids the network reads first: <title> title <abstract>)``;
        ValueError for a model trained without titles, or an empty or over-long title."""
        return self.starts.title(title)

    def test_abstracts(self) -> list[list[str]]:
        """The tokenized test-split abstracts of the model's corpus (loaded once)."""
        return [abstract for _, abstract in self.starts.test_documents()]

    def test_documents(self) -> list[tuple[list[str], list[str]]]:
        """``(title words, abstract words)`` of each test-split abstract of the model's corpus."""
        return self.starts.test_documents()

    # --- originality ----------------------------------------------------------------

    def originality(self, text: str, seed_words: int = 0) -> originality_module.Originality:
        """The 3 real abstracts of the model's corpus closest to ``text`` (BM25, all parts) and
        the longest run of its words found word for word in a training abstract; a run lying
        wholly inside the first ``seed_words`` words (the user's) does not count. See
        ``patentrnn.originality``. Raises ValueError for empty text or more than
        ``originality.MAX_CHARACTERS`` characters, and ``OriginalityUnavailable`` (a
        ValueError) without the model's corpus."""
        return originality_module.check_text(self.bundle, text, seed_words)

    # --- generation -----------------------------------------------------------------

    def generate(
        self,
        seed: str | None = None,
        words: int | None = None,
        diversity: float = DEFAULT_DIVERSITY,
        top_k: int | None = None,
        top_p: float | None = None,
        rng_seed: int | None = None,
        originality: bool = True,
        max_copy: int | None = None,
        title: str | None = None,
        topic: bool = True,
        on_words=None,
    ) -> Generation:
        """Generate ``words`` words after ``seed``, or after a random real abstract's
        first words when ``seed`` and ``title`` are None.

        Args:
            seed: text to continue; None for a random start (or, with ``title``, an abstract
                written from its start).
            words: how many words to write, 1 to ``MAX_WORDS``. None: a title model writes
                until it ends the abstract (``<end>``; at most ``UNTIL_END_LIMIT`` words, with a
                note when it is cut there); a model without titles writes ``DEFAULT_WORDS``.
            diversity: 0 (most likely word) to 5; the reference's default 0.8.
            top_k: optional; sample among the k most likely words.
            top_p: optional; sample among the most likely words that make up p.
            rng_seed: makes the result reproducible; drawn and reported when None.
            originality: fill ``result.originality`` (the closest real patents and the
                longest copied span); False skips the check.
            max_copy: None (no change), or N: no run of more than N words of the output
                (seed words that run into it included) appears word for word in a training
                abstract; a run wholly inside the seed is the user's. ``result.copy_guard``
                says how many draws it steered.
            title: the invention's title, read first (title models only: a ValueError names
                the option otherwise); ``seed`` then begins the abstract.
            topic: with a title (given, or a random start's real one), add the title's topic: the
                words of the training abstracts closest to it (``patentrnn.topic``, where the card
                has one). False: the network alone.
            on_words: optional; called with the words written so far (``GeneratedWord``), 8 at a
                time, as they are written (the HTTP API's stream). An exception it raises stops
                the generation and propagates.
        """
        run = self._run_settings(words, diversity, top_k, top_p, rng_seed, max_copy, title, topic)
        start = self.starts.start(seed, title, 0 if run.until_end else run.limit, run.rng)
        return self._generate(start, run, originality, on_words=on_words)[0]

    def branch(self, before: list[str], word: str, settings: Settings, originality: bool = True):
        """Generate on from the words ``before`` followed by ``word`` (a branch: the visitor picked
        ``word`` where the text had another), with a result's ``settings`` and a new rng seed. Returns
        the generation (its seed: ``before`` + ``word``) and ``word`` scored after ``before``, read once."""
        title = settings.title
        run = self._run_settings(**{**settings.arguments(), "rng_seed": None})
        title_words = self.prepare_title(title)[0] if title is not None else None
        context = self.starts.context(title_words)
        seed_words = [*before, word][-MAX_SEED_WORDS:]
        if len(seed_words) < 2 and not context:
            raise InputError("A branch needs a word before the one picked.")
        unknown = list(dict.fromkeys(w for w in seed_words if w not in self.vocabulary.index))
        mode = "title" if title is not None else "seed"
        start = Start(mode, seed_words, context, unknown, title_words=title_words)
        return self._generate(start, run, originality, score_last=True)

    def _run_settings(
        self,
        words=None,
        diversity=DEFAULT_DIVERSITY,
        top_k=None,
        top_p=None,
        rng_seed=None,
        max_copy=None,
        title=None,
        topic=True,
    ) -> Run:
        words = _validate_words(words)
        sampling = SamplingConfig(diversity, top_k, top_p).validated(len(self.vocabulary))
        rng_seed = _validate_rng_seed(rng_seed)
        until_end = words is None and self.titles
        limit = words or (UNTIL_END_LIMIT if until_end else DEFAULT_WORDS)
        if not isinstance(topic, bool):
            raise InputError("topic must be True or False")
        settings = Settings(None if until_end else limit, **asdict(sampling), rng_seed=rng_seed,
                            max_copy=_validate_max_copy(max_copy), title=title, topic=topic)  # fmt: skip
        # Python's Mersenne Twister, not numpy.random: the same sequence for a seed on
        # any platform, and a serving kernel saves the 2.7 MiB that numpy.random costs.
        return Run(sampling, limit, until_end, topic, random.Random(rng_seed), settings, time.perf_counter())

    def _generate(self, start: Start, run: Run, originality: bool, score_last: bool = False, on_words=None):
        """Read the start, write, and describe it all as a ``Generation`` (with ``score_last``: and
        the start's last word scored, ``(generation, ScoredWord)``)."""
        seed_ids = self.vocabulary.encode_words(start.seed_words)
        sampler = self.sampler
        guard = self._copy_guard(run.settings.max_copy, seed_ids, start.notes, sampler)
        read_started = time.perf_counter()
        tokens = start.context + seed_ids
        topic = self.topic_of(start.context, start.notes) if run.topic else None
        cursor = Cursor(self.runtime, tokens[:-1] if score_last else tokens, cache=False, topic=topic)
        last = None
        if score_last:
            row = cursor.logits()[: len(self.vocabulary)]
            last = score_rows(row[None, :], [seed_ids[-1]], start.seed_words[-1:], self.vocabulary)[0][0]
            cursor.feed(seed_ids[-1])
        generate_started = time.perf_counter()
        generated, ended = self._write(cursor, sampler, run, guard, on_words)
        finished = time.perf_counter()
        if run.until_end and not ended:
            start.notes.append(CUT_NOTE)
        if guard and guard.all_blocked:
            start.notes.append(ALL_BLOCKED)
        result = Generation(
            model=self.name,
            mode=start.mode,
            seed_words=start.seed_words,
            generated=generated,
            actual_words=start.actual,
            unknown_words=start.unknown,
            notes=start.notes,
            settings=run.settings,
            copy_guard=guard.summary() if guard else None,
            title_words=start.title_words,
            ended=ended,
            timings={
                "read_seed_ms": round((generate_started - read_started) * 1000, 3),
                "generate_ms": round((finished - generate_started) * 1000, 3),
                "total_ms": round((finished - run.started) * 1000, 3),
            },
        )
        result._generator = self  # (not a field: a notebook's display branches with it, to_dict never sees it)
        if originality:
            checked = time.perf_counter()
            result.originality, note = originality_module.for_generation(self.bundle, result)
            if note:
                result.notes.append(note)
            result.timings["originality_ms"] = round((time.perf_counter() - checked) * 1000, 3)
        return result, last

    def _write(self, cursor: Cursor, sampler: Sampler, run: Run, guard, on_words=None):
        """Up to ``run.limit`` words, or (``run.until_end``) until the model ends the abstract: ``(generated
        words, ended)``. Whether it ends is drawn first, at the model's own probability of ``<end>``;
        the word, if not, at the diversity (the sampler never draws ``<end>``). The diversity shapes
        the words, not the length: drawn at diversity 0.8 with the rest, ``<end>`` (one likely word
        after a sentence, against many continuations that sharpening thins) made the title model's
        abstracts end early, a median of 95.5 words for a real 133 (``patentrnn title-figures``).
        ``on_words(words so far)`` is called after each batch of words is described; raising stops."""
        # The network writes the next word's logits, (logits - shift) / temperature,
        # straight into one of the sampler's rows; the sampler draws the word from it
        # and describes (probability, alternatives) a batch of rows at a time. The
        # shift, the largest logit after the seed, keeps exp in range without a pass
        # over the vocabulary a word.
        vocabulary, sampling, limit, rng, until_end = self.vocabulary, run.sampling, run.limit, run.rng, run.until_end
        temperature = sampler.temperature(sampling)
        rows, batch = sampler.rows, sampler.BATCH
        first = cursor.logits(temperature, 0.0, out=rows[0])
        peak = float(first[: len(vocabulary)].max())
        first -= peak
        shift = peak * temperature
        logits, draw, feed, describe = cursor.logits, sampler.draw, cursor.feed, sampler.describe
        names = vocabulary.words
        chosen, generated = [], []
        end = END_ID if self.titles else -1  # (without titles, id 4 is a word)
        ended, own = False, sampler.own_probability
        for position in range(limit):
            row = position % batch
            if position:
                logits(temperature, shift, out=rows[row])
            if until_end and rng.random() < own(row, end, temperature):
                chosen.append(end)
            elif guard is None:
                chosen.append(draw(row, sampling, rng))
            else:
                chosen.append(draw(row, sampling, rng, guard.blocked(rows[row][: len(vocabulary)], temperature)))
                guard.record(chosen[-1])
            ended = chosen[-1] == end
            if row == batch - 1 or position == limit - 1 or ended:
                count = row + 1 - ended  # (the <end> row was not drawn from, and is not shown)
                if count:
                    ids = chosen[-row - 1 :][:count]
                    ranks = rank_of(rows[:count], ids).tolist()  # (draw keeps the rows as they were)
                    generated += [
                        GeneratedWord(names[word], probability, list(zip((names[i] for i in others), offered)), rank)
                        for word, probability, others, offered, rank in zip(ids, *describe(count, ids, sampling), ranks)
                    ]
                    if on_words is not None:
                        on_words(generated)
            if ended:
                break
            if position + 1 < limit:
                feed(chosen[-1])
        return generated, ended

    def _copy_guard(self, max_copy: int | None, seed_ids: list[int], notes: list[str], sampler) -> CopyGuard | None:
        if max_copy is None:
            return None
        try:
            index = originality_module.index_for(self.bundle)
        except originality_module.OriginalityUnavailable:
            notes.append(NO_COPY_CHECK)
            return None
        return CopyGuard(index, max_copy, list(seed_ids), len(self.vocabulary) - len(sampler.banned))

    def topic_of(self, context: list[int], notes: list[str] | None = None) -> Topic | None:
        """The topic (``patentrnn.topic``) of the title in ``context`` (``<title> title <abstract>``), or
        None: no title, or a card without a topic, or (noted in ``notes``) no corpus to draw it from."""
        title = self.runtime.title_of(context)
        if self.runtime.topic_config is None or title is None or not len(title.ids):
            return None
        if self._topics is None:
            try:
                self._topics = Topics(originality_module.index_for(self.bundle), self.runtime.vocab_size)
            except originality_module.OriginalityUnavailable:
                if notes is not None:
                    notes.append(NO_TOPIC)
                return None
        return self._topics.topic(title.ids, self.runtime.topic_config)

    # --- scoring --------------------------------------------------------------------

    def score(self, text: str, title: str | None = None) -> Score:
        """How the model sees ``text``: each word's probability, rank (1 = the model's
        first choice) and top-5 alternatives, and the text's log loss (nats a word after
        the first; unknown words as ``<unk>``) and perplexity. With ``title`` (title models
        only), the title is read first and the text's first word is scored too. See
        ``patentrnn.scoring`` for the limits (``MAX_SCORE_WORDS``); bad input raises ``ValueError``."""
        context = self.prepare_title(title)[1] if title is not None else self.starts.context(None)
        return score_text(self.runtime, self.vocabulary, text, self.name, context, self.topic_of(context))


_loaded: dict[tuple[str, str], Generator] = {}


def load(name: str | None = None, directory: str | os.PathLike | None = None) -> Generator:
    """A generator for bundle ``name`` (the default model when None) in ``directory`` (default:
    ``$PATENTRNN_MODELS``, else the repository's ``models/``); each bundle is read once per process."""
    root = models_dir(directory)
    key = (str(root), check_name(name or DEFAULT_MODEL))
    if key not in _loaded:
        _loaded[key] = Generator(load_bundle(key[1], root))
    return _loaded[key]
