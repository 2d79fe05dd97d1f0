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
import itertools
import numbers
import random
import secrets
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import corpus as corpus_module
from . import originality as originality_module
from .bundle import DEFAULT_MODEL, Bundle, check_name, load_bundle, models_dir
from .runtime import Cursor, Runtime
from .sampling import ROWS, Sampler, SamplingConfig
from .scoring import Score, score_text
from .scoring import ranks as rank_of  # (generation's own name `ranks` is a list)
from .vocabulary import ABSTRACT_ID, END_ID, PAD_ID, TITLE_ID, UNK_ID, detokenize

MAX_WORDS = 5000  # words generated per call
MAX_SEED_WORDS = 500  # the seed's last words that the network reads
MAX_SEED_CHARACTERS = 20_000  # the seed's tail that is cleaned and tokenized at all
RANDOM_WINDOW = 50  # random start: words of the real abstract given as the seed
UNTIL_END_LIMIT = 300  # words=None: a title model writes until it ends the abstract, or this many words
DEFAULT_WORDS = 50  # words=None, a model without titles
MAX_TITLE_CHARACTERS = 500
CUT_NOTE = f"The model had not ended the abstract after {UNTIL_END_LIMIT} words: it was cut there."
MAX_RNG_SEED = 2**32 - 1
MAX_COPY_RANGE = (1, 50)  # max_copy: the longest run of training words allowed
NO_COPY_CHECK = "Words were not steered away from copies: that needs the model's corpus, which is not available here."
ALL_BLOCKED = "Every word would have copied the training text at one step: the most likely word was taken there."


@dataclass(slots=True)
class GeneratedWord:
    word: str
    probability: float  # under the model (diversity 1), whatever the sampling settings
    alternatives: list[tuple[str, float]]  # the model's 5 most likely words here
    rank: int = 0  # 1 = the model's first choice (a full sort of its probabilities, <unk> included)


@dataclass
class Generation:
    """What one call to ``generate`` produced, and how."""

    model: str
    mode: str  # "seed", "random" or "title"
    seed_words: list[str]  # as the network read them (title mode: the abstract's given beginning, maybe none)
    generated: list[GeneratedWord]
    actual_words: list[str] | None  # random mode: the real continuation
    unknown_words: list[str]  # seed words the model does not know (read as <unk>)
    notes: list[str]  # e.g. that a long seed was shortened
    settings: dict  # words, diversity, top_k, top_p, rng_seed (the one actually used)
    timings: dict = field(default_factory=dict)  # milliseconds
    # closest real patents and the longest copied span (None without the corpus; see notes)
    originality: originality_module.Originality | None = None
    # with max_copy: {"max_copy": N, "steered": draws with a word blocked, "mass_removed": their blocked probability}
    copy_guard: dict | None = None
    title_words: list[str] | None = None  # the title the network read first (title models)
    ended: bool = False  # whether the model ended the abstract itself (<end>)

    @property
    def title_text(self) -> str | None:
        return None if self.title_words is None else detokenize(self.title_words)

    @property
    def generated_words(self) -> list[str]:
        return [item.word for item in self.generated]

    @property
    def seed_text(self) -> str:
        return detokenize(self.seed_words)

    @property
    def generated_text(self) -> str:
        return detokenize(self.generated_words)

    @property
    def actual_text(self) -> str | None:
        return None if self.actual_words is None else detokenize(self.actual_words)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(
            seed_text=self.seed_text,
            generated_text=self.generated_text,
            actual_text=self.actual_text,
            title_text=self.title_text,
        )
        return data


def _validate_words(words) -> int | None:
    if words is None:
        return None
    if isinstance(words, bool) or not isinstance(words, numbers.Integral):
        raise ValueError("words must be a whole number")
    if not 1 <= int(words) <= MAX_WORDS:
        raise ValueError(f"words must be between 1 and {MAX_WORDS}")
    return int(words)


def _validate_max_copy(max_copy) -> int | None:
    if max_copy is None:
        return None
    low, high = MAX_COPY_RANGE
    if isinstance(max_copy, bool) or not isinstance(max_copy, numbers.Integral) or not low <= max_copy <= high:
        raise ValueError(f"max_copy must be None or a whole number from {low} to {high}")
    return int(max_copy)


@dataclass
class CopyGuard:
    """``max_copy``: before each draw, the words that would make the output's last ``span`` words
    (seed words included) a run of ``span + 1`` training words are blocked (the originality
    index's suffix array, ``Index.continuations``); counts what it did."""

    index: originality_module.Index
    span: int
    history: list[int]  # the output's word ids so far, seed first
    allowed: int  # words the sampler may draw at all
    steered: int = 0  # draws with at least one word blocked
    removed: float = 0.0  # their blocked probability (at diversity 1), summed
    all_blocked: int = 0

    def blocked(self, logits: np.ndarray, temperature: float) -> list[int]:
        """This step's blocked ids; ``logits`` is the sampler's row, ``(logits - shift) / temperature``."""
        blocked = self.index.continuations(self.history[-self.span :]) if len(self.history) >= self.span else []
        if not blocked:
            return blocked
        if len(blocked) >= self.allowed:
            self.all_blocked += 1
            return []
        weights = np.exp((logits - logits.max()) * temperature)
        self.steered += 1
        self.removed += float(weights[blocked].sum() / weights.sum())
        return blocked

    def summary(self) -> dict:
        return {"max_copy": self.span, "steered": self.steered, "mass_removed": round(self.removed, 6)}


def _validate_rng_seed(rng_seed) -> int:
    if rng_seed is None:
        return secrets.randbelow(MAX_RNG_SEED + 1)
    if isinstance(rng_seed, bool) or not isinstance(rng_seed, numbers.Integral):
        raise ValueError("rng_seed must be a whole number")
    if not 0 <= int(rng_seed) <= MAX_RNG_SEED:
        raise ValueError(f"rng_seed must be between 0 and {MAX_RNG_SEED}")
    return int(rng_seed)


@dataclass
class _Start:
    """What the network reads before it writes, and what the result reports of it."""

    mode: str
    seed_words: list[str]
    context: list[int]  # title models: <title> title <abstract>, or <abstract>; [] otherwise
    unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    actual: list[str] | None = None
    title_words: list[str] | None = None


class Generator:
    """Generates text from one bundle. Create with ``patentrnn.load(name)``."""

    def __init__(self, bundle: Bundle):
        self.runtime = Runtime(bundle, pad_to=ROWS)
        # The runtime holds float32 copies of what it needs: drop the stored arrays.
        self.bundle = dataclasses.replace(bundle, weights={})
        self.name = bundle.name
        self.vocabulary = bundle.vocabulary
        self.titles = self.vocabulary.has_titles  # trained with TrainConfig.titles
        banned = (PAD_ID, UNK_ID, TITLE_ID, ABSTRACT_ID) if self.titles else (PAD_ID, UNK_ID)
        self.sampler = Sampler(len(self.vocabulary), banned=banned + ((END_ID,) if self.titles else ()))
        # words=None: the title model may draw <end> (its own buffers, made on first use)
        self._ending_sampler = (lambda: Sampler(len(self.vocabulary), banned=banned)) if self.titles else None
        self._test_abstracts: list[tuple[list[str], list[str]]] | None = None

    # --- seeds ----------------------------------------------------------------------

    def prepare_seed(self, seed: str) -> tuple[list[str], list[str], list[str]]:
        """Seed text to ``(words the network reads, unknown words, notes)``."""
        if not isinstance(seed, str):
            raise ValueError("seed must be text")
        notes = []
        if len(seed) > MAX_SEED_CHARACTERS:
            seed = seed[-MAX_SEED_CHARACTERS:]
            notes.append(f"The seed was long: only its last {MAX_SEED_CHARACTERS:,} characters were read.")
        words = self.vocabulary.read(seed)
        if not words:
            raise ValueError("Please enter a seed: it is empty.")
        if len(words) > MAX_SEED_WORDS:
            notes.append(f"The seed has {len(words):,} words: the network reads only the last {MAX_SEED_WORDS}.")
            words = words[-MAX_SEED_WORDS:]
        unknown = [word for word in words if word not in self.vocabulary.index]
        if len(unknown) == len(words):
            raise ValueError("The model knows none of the seed's words: try a sentence about the model's subject.")
        return words, list(dict.fromkeys(unknown)), notes

    def prepare_title(self, title: str) -> tuple[list[str], list[int]]:
        """Title text to ``(its words, the ids the network reads first: <title> title <abstract>)``;
        ValueError for a model trained without titles, or an empty or over-long title."""
        if not self.titles:
            raise ValueError(
                f"Model {self.name!r} was not trained with titles: choose a title model "
                "(trained with titles=True, `patentrnn train --titles`) or leave the title out."
            )
        if not isinstance(title, str):
            raise ValueError("title must be text")
        if len(title) > MAX_TITLE_CHARACTERS:
            raise ValueError(f"The title is too long: at most {MAX_TITLE_CHARACTERS} characters.")
        words = self.vocabulary.read(title)
        if not words:
            raise ValueError("Please enter a title: it is empty.")
        return words, [TITLE_ID, *self.vocabulary.encode_words(words), ABSTRACT_ID]

    def test_abstracts(self) -> list[list[str]]:
        """The tokenized test-split abstracts of the model's corpus (loaded once)."""
        return [abstract for _, abstract in self.test_documents()]

    def test_documents(self) -> list[tuple[list[str], list[str]]]:
        """``(title words, abstract words)`` of each test-split abstract of the model's corpus
        (loaded once; titles [] where the corpus has none)."""
        if self._test_abstracts is None:
            card = self.bundle.card
            name = card.get("corpus", {}).get("name")
            if not name:
                raise ValueError(f"model {self.name!r} does not name its corpus")
            try:
                path, options = corpus_module.source_of(card["corpus"])
                config = self.bundle.split
                used = card["corpus"].get("abstracts")  # a run may use the first N abstracts only
                tokenize = self.vocabulary.tokenize
                # streamed: a serving kernel keeps only the test part in memory
                self._test_abstracts = [
                    (tokenize(corpus_module.clean(record.patent_title)), tokenize(record.abstract))
                    for record in itertools.islice(corpus_module.iter_records(path, options), used)
                    if corpus_module.part_of(record.abstract, config) == "test"
                ]
            except corpus_module.CorpusError as error:
                raise corpus_module.CorpusError(f"Random start needs the {name!r} corpus: {error}") from error
        return self._test_abstracts

    # --- originality ----------------------------------------------------------------

    def originality(self, text: str, seed_words: int = 0) -> originality_module.Originality:
        """The 3 real abstracts of the model's corpus closest to ``text`` (BM25, all parts) and
        the longest run of its words found word for word in a training abstract; a run lying
        wholly inside the first ``seed_words`` words (the user's) does not count. See
        ``patentrnn.originality``. Raises ValueError for empty text or more than
        ``originality.MAX_CHARACTERS`` characters, and ``OriginalityUnavailable`` (a
        ValueError) without the model's corpus."""
        return originality_module.check_text(self, text, seed_words)

    # --- generation -----------------------------------------------------------------

    def generate(
        self,
        seed: str | None = None,
        words: int | None = None,
        diversity: float = 0.8,
        top_k: int | None = None,
        top_p: float | None = None,
        rng_seed: int | None = None,
        originality: bool = True,
        max_copy: int | None = None,
        title: str | None = None,
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
        """
        started = time.perf_counter()
        words = _validate_words(words)
        max_copy = _validate_max_copy(max_copy)
        sampling = SamplingConfig(diversity, top_k, top_p).validated(len(self.vocabulary))
        rng_seed = _validate_rng_seed(rng_seed)
        # Python's Mersenne Twister, not numpy.random: the same sequence for a seed on
        # any platform, and a serving kernel saves the 2.7 MiB that numpy.random costs.
        rng = random.Random(rng_seed)
        until_end = words is None and self.titles
        limit = words or (UNTIL_END_LIMIT if until_end else DEFAULT_WORDS)
        start = self._start(seed, title, limit, until_end, rng)
        seed_ids = self.vocabulary.encode_words(start.seed_words)
        guard = self._copy_guard(max_copy, seed_ids, start.notes)
        read_started = time.perf_counter()
        cursor = Cursor(self.runtime, start.context + seed_ids)
        generate_started = time.perf_counter()
        sampler = self._ending_sampler_instance() if until_end else self.sampler
        generated, ended = self._write(cursor, sampler, sampling, limit, rng, guard)
        finished = time.perf_counter()
        if until_end and not ended:
            start.notes.append(CUT_NOTE)
        settings = {"words": None if until_end else limit, **asdict(sampling), "rng_seed": rng_seed, "max_copy": max_copy}
        if title is not None:
            settings["title"] = title
        result = Generation(
            model=self.name,
            mode=start.mode,
            seed_words=start.seed_words,
            generated=generated,
            actual_words=start.actual,
            unknown_words=start.unknown,
            notes=start.notes,
            settings=settings,
            copy_guard=guard.summary() if guard else None,
            title_words=start.title_words,
            ended=ended,
            timings={
                "read_seed_ms": round((generate_started - read_started) * 1000, 3),
                "generate_ms": round((finished - generate_started) * 1000, 3),
                "total_ms": round((finished - started) * 1000, 3),
            },
        )
        if guard and guard.all_blocked:
            result.notes.append(ALL_BLOCKED)
        if originality:
            checked = time.perf_counter()
            result.originality, note = originality_module.for_generation(self, result)
            if note:
                result.notes.append(note)
            result.timings["originality_ms"] = round((time.perf_counter() - checked) * 1000, 3)
        return result

    def _ending_sampler_instance(self) -> Sampler:
        if not isinstance(self._ending_sampler, Sampler):
            self._ending_sampler = self._ending_sampler()
        return self._ending_sampler

    def _start(self, seed: str | None, title: str | None, limit: int, until_end: bool, rng) -> _Start:
        """The mode, the words the network reads and what is reported of them."""
        context = [ABSTRACT_ID] if self.titles else []
        if title is not None:
            title_words, context = self.prepare_title(title)
            unknown = [word for word in title_words if word not in self.vocabulary.index]
            start = _Start("title", [], context, list(dict.fromkeys(unknown)), title_words=title_words)
            if seed is not None and (not isinstance(seed, str) or seed.strip()):
                start.seed_words, seed_unknown, start.notes = self.prepare_seed(seed)
                start.unknown = list(dict.fromkeys(start.unknown + seed_unknown))
            return start
        if seed is not None:
            seed_words, unknown, notes = self.prepare_seed(seed)
            return _Start("seed", seed_words, context, unknown, notes)
        title_words, seed_words, actual = self._random_window(0 if until_end else limit, rng)
        if self.titles and title_words:
            context = [TITLE_ID, *self.vocabulary.encode_words(title_words), ABSTRACT_ID]
        return _Start("random", seed_words, context, actual=actual, title_words=title_words if self.titles else None)

    def _write(self, cursor: Cursor, sampler: Sampler, sampling: SamplingConfig, limit: int, rng, guard):
        """Up to ``limit`` words, or until ``<end>`` is drawn: ``(generated words, ended)``."""
        # The network writes the next word's logits, (logits - shift) / temperature,
        # straight into one of the sampler's rows; the sampler draws the word from it
        # and describes (probability, alternatives) a batch of rows at a time. The
        # shift, the largest logit after the seed, keeps exp in range without a pass
        # over the vocabulary a word.
        vocabulary = self.vocabulary
        temperature = sampler.temperature(sampling)
        rows, batch = sampler.rows, sampler.BATCH
        first = cursor.logits(temperature, 0.0, out=rows[0])
        peak = float(first[: len(vocabulary)].max())
        first -= peak
        shift = peak * temperature
        logits, draw, feed, describe = cursor.logits, sampler.draw, cursor.feed, sampler.describe
        chosen, probabilities, alternative_ids, alternative_probabilities, ranks = [], [], [], [], []
        ended = False
        for position in range(limit):
            row = position % batch
            if position:
                logits(temperature, shift, out=rows[row])
            if guard is None:
                chosen.append(draw(row, sampling, rng))
            else:
                chosen.append(draw(row, sampling, rng, guard.blocked(rows[row][: len(vocabulary)], temperature)))
                guard.history.append(chosen[-1])
            ended = chosen[-1] == END_ID and self.titles
            if row == batch - 1 or position == limit - 1 or ended:
                ranks += rank_of(rows[: row + 1], chosen[-row - 1 :]).tolist()  # draw keeps the order
                described = describe(row + 1, chosen[-row - 1 :], sampling)
                probabilities += described[0]
                alternative_ids += described[1]
                alternative_probabilities += described[2]
            if ended:
                break
            if position + 1 < limit:
                feed(chosen[-1])
        names = vocabulary.words
        generated = [
            GeneratedWord(names[word], probability, [(names[i], p) for i, p in zip(ids, offered) if i != END_ID], rank)
            for word, probability, ids, offered, rank in zip(
                chosen, probabilities, alternative_ids, alternative_probabilities, ranks
            )
        ]
        return (generated[:-1], True) if ended else (generated, False)

    def _copy_guard(self, max_copy: int | None, seed_ids: list[int], notes: list[str]) -> CopyGuard | None:
        if max_copy is None:
            return None
        try:
            index = originality_module.index_for(self)
        except originality_module.OriginalityUnavailable:
            notes.append(NO_COPY_CHECK)
            return None
        return CopyGuard(index, max_copy, list(seed_ids), len(self.vocabulary) - len(self.sampler.banned))

    # --- scoring --------------------------------------------------------------------

    def score(self, text: str, title: str | None = None) -> Score:
        """How the model sees ``text``: each word's probability, rank (1 = the model's
        first choice) and top-5 alternatives, and the text's log loss (nats a word after
        the first; unknown words as ``<unk>``) and perplexity. With ``title`` (title models
        only), the title is read first and the text's first word is scored too. See
        ``patentrnn.scoring`` for the limits (``MAX_SCORE_WORDS``); bad input raises ``ValueError``."""
        if title is not None:
            return score_text(self.runtime, self.vocabulary, text, self.name, self.prepare_title(title)[1])
        return score_text(self.runtime, self.vocabulary, text, self.name, [ABSTRACT_ID] if self.titles else [])

    def _random_window(self, words: int, rng: random.Random) -> tuple[list[str], list[str], list[str]]:
        """``(title words, seed words, the real continuation)`` from a random test abstract. A title
        model reads the title, then the abstract's first ``RANDOM_WINDOW`` words (half a shorter one)."""
        if self.titles:
            documents = [d for d in self.test_documents() if len(d[1]) >= 2]
            if not documents:
                raise ValueError("the model's corpus has no test abstract")
            title, abstract = documents[rng.randrange(len(documents))]
            end = min(RANDOM_WINDOW, len(abstract) // 2)
            return title, abstract[:end], abstract[end : end + words] if words else abstract[end:]
        documents = [d for d in self.test_documents() if len(d[1]) > RANDOM_WINDOW]
        if not documents:
            raise ValueError(f"no test abstract of the model's corpus is longer than {RANDOM_WINDOW} words")
        long_enough = [d for d in documents if len(d[1]) >= RANDOM_WINDOW + words] or documents
        title, abstract = long_enough[rng.randrange(len(long_enough))]
        start = rng.randrange(max(len(abstract) - RANDOM_WINDOW - words, 0) + 1)
        return title, abstract[start : start + RANDOM_WINDOW], abstract[start + RANDOM_WINDOW :][:words]


_loaded: dict[tuple[str, str], Generator] = {}


def load(name: str | None = None) -> Generator:
    """A generator for bundle ``name`` in ``models/`` (the default model when None);
    each bundle is read once per process."""
    key = (str(models_dir()), check_name(name or DEFAULT_MODEL))
    if key not in _loaded:
        _loaded[key] = Generator(load_bundle(key[1]))
    return _loaded[key]
