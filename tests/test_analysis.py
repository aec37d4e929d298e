"""What the latent dimensions do: effect sizes, every reference counted, order-free."""

from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent import analysis
from keras_musiclatent.audio.descriptor_spread import SPREAD
from keras_musiclatent.audio.features import DESCRIPTORS
from keras_musiclatent.latent_space import LatentSpace
from tests.conftest import tone


@pytest.fixture(scope="module")
def space(tiny_space_dir) -> LatentSpace:
    return LatentSpace.load(tiny_space_dir)


def test_spreads_cover_every_descriptor():
    assert set(SPREAD) == set(DESCRIPTORS) and all(v > 0 for v in SPREAD.values())


def test_probe_ranks_by_effect_size_not_by_correlation(space):
    probe = space.probe(tone(1.0), 1)
    sizes = list(probe.sizes.values())
    assert sizes == sorted(sizes, key=lambda s: -abs(s))
    assert probe.top_descriptor == max(probe.sizes, key=lambda k: abs(probe.sizes[k]))
    name = probe.top_descriptor
    expected = (probe.descriptors[name][-1] - probe.descriptors[name][0]) / SPREAD[name]
    assert probe.sizes[name] == pytest.approx(expected)
    assert list(probe.effects) == list(probe.sizes)  # r listed beside each size
    summary = probe.summary()
    assert "spreads of real music" in summary and "r = " in summary and name in summary


def test_probe_summary_headlines_the_large_change():
    """A descriptor with r = -1 but a tiny change must not outrank a large change."""
    sweep = np.linspace(0, 1, 7)
    probe = analysis.Probe(
        dim=0,
        values=sweep,
        sds=sweep,
        decoded=None,
        descriptors={
            "chroma_entropy": 3.566 - 0.036 * sweep,  # r = -1.00, 0.2 spreads
            "spectral_centroid": 2288 - 674 * sweep**2,  # r ~ -0.97, 0.8 spreads
        },
        effects={"chroma_entropy": -1.0, "spectral_centroid": -0.97},
        sizes={
            "spectral_centroid": -674 / SPREAD["spectral_centroid"],
            "chroma_entropy": -0.036 / SPREAD["chroma_entropy"],
        },
    )
    assert probe.top_descriptor == "spectral_centroid"
    assert "2288 → 1614 Hz" in probe.summary()


def test_explain_uses_every_reference_in_any_order(space):
    a, b = tone(4.0, freq=220.0), tone(4.0, freq=1760.0)
    ab = space.explain_dimensions([a, b], dims=[0, 1], max_segments=4, progress=False)
    ba = space.explain_dimensions([b, a], dims=[0, 1], max_segments=4, progress=False)
    assert [r.segments for r in ab] == [4, 4]  # two segments of each clip, not four of one
    by_dim = {r.dim: r for r in ba}
    for report in ab:
        other = by_dim[report.dim]
        assert report.change_db == pytest.approx(other.change_db, rel=1e-4)
        assert report.descriptor == other.descriptor
        assert report.size == pytest.approx(other.size, rel=1e-3, abs=1e-6)


def test_reference_segments_take_every_clip(space):
    clips = [tone(7.0), tone(1.0), tone(4.0)]
    z, time = analysis._reference_segments(space, clips, 3)
    assert len(z) == 3 and time is None  # one from each clip; no time-varying latent
    z, _ = analysis._reference_segments(space, clips, 100)
    assert len(z) == sum(len(space.latents(c)) for c in clips)  # all of them
