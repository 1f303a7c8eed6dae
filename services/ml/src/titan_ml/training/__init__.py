"""The training run: data in, model files and their measured evaluation out."""
