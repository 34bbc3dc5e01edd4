"""Shared fixtures for the vis tests: the default model, loaded once per session."""

import pytest


@pytest.fixture(scope="session")
def lite0():
    """EfficientNet-Lite0 with its ImageNet weights (a LoadedModel), in eval mode."""
    from vis.models import load_model

    return load_model()


@pytest.fixture
def cached_model(lite0, monkeypatch):
    """Make `python -m vis` (vis.run) reuse the session's EfficientNet-Lite0.

    Other models and explicit --weights still go through the real loader.
    """
    import vis.run
    from vis.models import load_model

    def load(name, weights=None, classes=None):
        if name == lite0.name and weights is None:
            return lite0
        return load_model(name, weights, classes)

    monkeypatch.setattr(vis.run, "load_model", load)
    return lite0


@pytest.fixture
def quick_figures(monkeypatch):
    """Draw every figure at 30 dpi: for tests about files and messages, not pixels."""
    import vis.figures
    import vis.sections

    save = vis.figures.save
    monkeypatch.setattr(vis.sections, "OVERVIEW_DPI", 30)
    monkeypatch.setattr(vis.figures, "save", lambda fig, path, dpi: save(fig, path, 30))
