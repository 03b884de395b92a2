"""Sample media for probe and verdict tests, generated once per session on first use."""

from __future__ import annotations

import pytest

from tests.media_factory import MediaSamples


@pytest.fixture(scope="session")
def media_samples(tmp_path_factory: pytest.TempPathFactory) -> MediaSamples:
    return MediaSamples(tmp_path_factory.mktemp("media-samples"))
