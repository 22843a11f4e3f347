"""Small classifiers trained on the shapes dataset: architectures, training, loading."""
