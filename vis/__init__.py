"""Activation galleries of pretrained CNNs: `python -m vis PHOTO`."""
