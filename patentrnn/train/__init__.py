"""Training, with Keras: the network (``network``), its layers, examples, held-out metrics and the
training loop. Nothing outside this package imports TensorFlow or Keras (a test checks): the numpy
runtime serves, and this package is needed only to train and evaluate (``pip install 'patentrnn[train]'``).
Importing the package itself imports nothing."""
