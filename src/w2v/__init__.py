"""w2v: word2vec, done right, in PyTorch."""
