"""The shipped models write the same words for the same settings, release after release: refactoring the
logit pipeline, the sampler or the runtime must not change a permalink's text.

The fingerprints were taken before the second pass over the code (commit 28d4c93) and again after it:
they matched. A change that alters the words on purpose (a new model, a new sampling rule) updates them,
and says so in its commit. (numpy's float32 arithmetic on another CPU family could, rarely, differ in a
last bit and flip a draw: the message names the case.)
"""

from __future__ import annotations

import hashlib

import pytest

import patentrnn

CASES = [
    ("neural-network-title", dict(seed="A neural network for recognising handwritten digits", words=60, rng_seed=1),
     "50aed46b7a4bdb24"),
    ("neural-network-title", dict(seed="A method of training", words=40, rng_seed=2, top_k=20, diversity=1.2),
     "9a5e941a93086cbd"),
    ("neural-network-title", dict(seed="A system comprising a processor", words=40, rng_seed=3, top_p=0.9,
                                  max_copy=7), "36183679b214b332"),
    ("neural-network-title", dict(title="Neural network for detecting fraud in payments", rng_seed=4),
     "25df14ff836c3871"),
    ("neural-network-lstm", dict(seed="A neural network", words=50, rng_seed=5, max_copy=7), "46d925a1945ac950"),
    ("baseball-lstm", dict(seed="A baseball bat", words=50, rng_seed=6, diversity=0.5), "c9a06e8ed39cb4a9"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "arguments", "fingerprint"), CASES)
def test_fixed_settings_write_the_same_words_as_before(data_dir, model, arguments, fingerprint):
    result = patentrnn.load(model).generate(**arguments, originality=False)
    written = hashlib.sha256(" ".join(result.generated_words).encode()).hexdigest()[:16]
    assert written == fingerprint, f"{model} {arguments} now writes: {result.generated_text[:200]!r}"
