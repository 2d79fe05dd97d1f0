"""patentrnn: write new patent abstracts with a word-level recurrent neural network.

    >>> import patentrnn
    >>> result = patentrnn.load().generate("A neural network", words=30)
    >>> print(result.generated_text)

Importing patentrnn and generating never imports TensorFlow; training does.
"""

from .generation import MAX_WORDS, Generation, Generator, Settings, load

__version__ = "0.1.0"
__all__ = ["Generation", "Generator", "MAX_WORDS", "Settings", "load", "__version__"]
