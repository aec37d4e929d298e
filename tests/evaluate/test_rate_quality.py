"""evaluate.rate_quality on generated clips and a fake codec: real rates from bytes, the table's
order and columns, the ceiling row, the aims, the plot; and the shipped gtzan-ae end to end."""

from __future__ import annotations

import itertools
import math
import struct
from typing import ClassVar

import numpy as np
import pytest
from scipy.signal import resample_poly

from keras_musiclatent.data.synthetic import demo_clip
from keras_musiclatent.errors import InvalidAudioError, MissingComponentError
from keras_musiclatent.evaluate import listener
from keras_musiclatent.evaluate import rate_quality as rq
from keras_musiclatent.evaluate.plots import plot_rate_quality

SR = 22050
SECONDS = 3.0
PNG = b"\x89PNG\r\n\x1a\n"


class FakeCodec:
    """A codec pretending to have operating points: keep every 4th sample (a 2.75 kHz lowpass
    by polyphase resampling) quantised to ``bits``; the stream is its codes, one byte each."""

    name = "fake-codec"
    sample_rate = SR
    factor = 4

    def __init__(self, code_bits: list[int] | None = None) -> None:
        if code_bits is not None:
            self.code_bits = code_bits
        self.calls: list[int | None] = []

    def compress(self, audio: np.ndarray, *, sr: int, bits: int | None = None) -> bytes:
        if bits is not None and not getattr(self, "code_bits", None):
            raise TypeError("this model has no bits option")
        self.calls.append(bits)
        b = 8 if bits is None else bits
        low = resample_poly(np.asarray(audio, np.float64), 1, self.factor)
        levels = 2**b - 1
        codes = np.round((np.clip(low, -1, 1) + 1) / 2 * levels).astype(np.uint8)
        # Codes of b bits packed as if by an entropy coder: the size is what a rate reads.
        payload = np.packbits(np.unpackbits(codes[:, None], axis=1)[:, 8 - b :]).tobytes()
        return struct.pack("<BI", b, len(audio)) + payload

    def decompress(self, blob: bytes) -> np.ndarray:
        b, n = struct.unpack("<BI", blob[:5])
        count = -(-n // self.factor)
        bits = np.unpackbits(np.frombuffer(blob[5:], np.uint8))[: count * b].reshape(count, b)
        codes = bits @ (1 << np.arange(b - 1, -1, -1))
        low = codes / (2**b - 1) * 2 - 1
        return resample_poly(low, self.factor, 1)[:n].astype(np.float32)

    # The ceiling's view: the "log-mel" is the clip itself, inverted by a gentle lowpass.
    def log_mel(self, audio: np.ndarray, *, sr: int | None = None) -> np.ndarray:
        return np.asarray(audio, np.float32)[None, :, None]

    def to_audio(
        self, log_mel: np.ndarray, *, n_iter: int = 32, num_samples: int | None = None, seed=0
    ) -> np.ndarray:
        y = np.asarray(log_mel, np.float32).reshape(-1)
        return np.convolve(y, np.ones(3) / 3, mode="same").astype(np.float32)[:num_samples]


class FakeEmbedder:
    """Band energies as a "musicnn": embedding = 8 log band energies per 3-s window, tags = the
    bands ranked by energy."""

    tag_names: ClassVar[list[str]] = [f"band{i}" for i in range(8)]

    def _bands(self, audio: np.ndarray) -> np.ndarray:
        spectrum = np.abs(np.fft.rfft(audio)) ** 2
        edges = np.geomspace(20, len(spectrum), 9).astype(int)
        return np.array([spectrum[a:b].sum() for a, b in itertools.pairwise(edges)])

    def embed(self, audio: np.ndarray, *, sr: int | None = None) -> np.ndarray:
        return np.log1p(self._bands(audio))[None]

    def tags(self, audio: np.ndarray, *, sr: int | None = None) -> dict[str, float]:
        energy = self._bands(audio)
        order = np.argsort(-energy, kind="stable")
        return {self.tag_names[i]: float(energy[i]) for i in order}


def _reference(name: str, kbps: float, noise: float) -> rq.System:
    """A stand-in reference codec: the clip plus seeded noise, at a nominal rate."""

    def round_trip(audio: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        rng = np.random.default_rng(0)
        out = audio + noise * rng.standard_normal(audio.size).astype(np.float32)
        return out, int(kbps * 1000 / 8 * len(audio) / sr)

    return rq.System(name, "reference", round_trip, family=name.split()[0], nominal_kbps=kbps)


@pytest.fixture(scope="module")
def clips() -> list[tuple[str, np.ndarray]]:
    return [
        ("demo-110", demo_clip(seconds=SECONDS, tempo=110.0, seed=0)),
        ("demo-128", demo_clip(seconds=SECONDS + 0.5, tempo=128.0, seed=1)),
    ]


@pytest.fixture(scope="module")
def rows(clips) -> list[dict]:
    space = FakeCodec([2, 4, 8])
    systems = [
        _reference("Opus 12 kbit/s", 12.0, 0.01),
        *rq.latent_systems(space),
        rq.inversion_ceiling(space),
        _reference("Opus 6 kbit/s", 6.0, 0.03),
    ]
    return rq.rate_quality(
        systems, clips, sample_rate=SR, embedder=FakeEmbedder(), visqol=False, progress=False
    )


# --- systems --------------------------------------------------------------------------------


def test_latent_systems_one_per_precision_or_one_for_older_models(clips):
    space = FakeCodec([2, 4, 8])
    systems = rq.latent_systems(space)
    assert [s.name for s in systems] == [f"fake-codec {b} bits" for b in (2, 4, 8)]
    assert {s.kind for s in systems} == {"latent"} and {s.family for s in systems} == {"fake-codec"}
    audio = clips[0][1]
    decoded, size = systems[0].round_trip(audio, SR)
    assert space.calls == [2] and decoded.shape == audio.shape
    assert size == len(space.compress(audio, sr=SR, bits=2))
    for older in (FakeCodec(), FakeCodec([])):  # no code_bits attribute, or an empty list
        (plain,) = rq.latent_systems(older)
        assert plain.name == "fake-codec"
        plain.round_trip(audio, SR)
        assert older.calls == [None]  # compress without bits=


def test_latent_round_trip_comes_back_at_the_clip_rate(clips):
    # The clip at 44.1 kHz, the model at 22.05 kHz: decoded audio at the clip's rate and length.
    space = FakeCodec()
    space.compress = lambda audio, *, sr: np.zeros(10, np.uint8).tobytes()  # type: ignore
    space.decompress = lambda blob: np.ones(SR, np.float32)  # type: ignore
    (system,) = rq.latent_systems(space)
    decoded, size = system.round_trip(np.zeros(2 * 44100, np.float32), 44100)
    assert decoded.shape == (2 * 44100,) and size == 10
    assert np.allclose(decoded[1000:43000], 1.0, atol=0.02)
    assert not decoded[44100 + 1000 :].any()


def test_rows_hold_every_measure_and_the_real_rate(rows, clips):
    assert [r["system"] for r in rows][:2] == ["Opus 12 kbit/s", "fake-codec 2 bits"]
    keys = {"system", "kind", "family", "nominal_kbps", "clips", "seconds", "num_bytes", "kbps"}
    for row in rows:
        assert keys | set(rq.MEASURES) <= set(row)
        assert row["clips"] == ["demo-110", "demo-128"]
        assert row["seconds"] == pytest.approx(2 * SECONDS + 0.5)
        assert "not asked for" in row["visqol_note"] and math.isnan(row["visqol"])
    space = FakeCodec([2, 4, 8])
    for row, bits in zip(rows[1:4], (2, 4, 8), strict=True):
        sizes = [len(space.compress(a, sr=SR, bits=bits)) for _, a in clips]
        rates = [8 * n / (len(a) / SR) / 1000 for n, (_, a) in zip(sizes, clips, strict=True)]
        assert row["num_bytes"] == pytest.approx(np.mean(sizes))
        assert row["kbps"] == pytest.approx(np.mean(rates), rel=1e-12)
    # More bits, more rate and less error; the ceiling (a 3-tap smoothing) beats them all.
    latent = rows[1:4]
    assert latent[0]["kbps"] < latent[1]["kbps"] < latent[2]["kbps"]
    assert latent[0]["rmse_db"] > latent[1]["rmse_db"] > latent[2]["rmse_db"]
    ceiling = rows[4]
    assert ceiling["kind"] == "ceiling" and math.isnan(ceiling["kbps"])
    assert ceiling["num_bytes"] == 0 and ceiling["rmse_db"] < latent[2]["rmse_db"]
    for row in rows:
        assert 0 <= row["tempo_ok"] <= 1 and -1 <= row["onset_r"] <= 1
        assert -1 <= row["embedding_cos"] <= 1 and 0 <= row["tag_overlap"] <= 1
    # The lowpassed codec loses the top bands, light noise hardly changes them.
    assert latent[2]["tag_overlap"] < rows[0]["tag_overlap"]
    assert max(r["embedding_cos"] for r in latent) < rows[0]["embedding_cos"]


def test_copy_scores_perfectly_and_rows_are_deterministic(clips):
    copy = rq.System("copy", "reference", lambda y, sr: (y.copy(), len(y)))
    kwargs = {"sample_rate": SR, "embedder": FakeEmbedder(), "visqol": False, "progress": False}
    (row,) = rq.rate_quality([copy], clips[:1], **kwargs)
    assert row["rmse_db"] == 0.0 and row["kbps"] == pytest.approx(8 * SR / 1000)
    assert row["onset_r"] == pytest.approx(1.0) and row["chroma_r"] == pytest.approx(1.0)
    assert row["beat_f"] == row["tempo_ok"] == row["tag_overlap"] == 1.0
    assert row["embedding_cos"] == pytest.approx(1.0)
    noisy = _reference("Opus 6 kbit/s", 6.0, 0.03)
    first, second = (rq.rate_quality([noisy], clips[:1], **kwargs)[0] for _ in range(2))
    assert first == second


def test_rmse_windows_follow_the_package_rule_so_a_short_tail_is_not_a_silent_window():
    # A 30.013-s clip, as GTZAN's: ten 3-s windows and a 294-sample tail no latent codec
    # encodes (the window rule drops tails under 1 s). Losing that tail costs nothing.
    y = demo_clip(seconds=30.0, seed=1)
    y = np.concatenate([y, y[:294]])
    cut = y.copy()
    cut[-294:] = 0.0
    per_window = rq._rmse_db(y, cut, SR)
    assert len(per_window) == 10 and max(per_window) == 0.0
    # A tail of 1 s or more is a window of its own, and losing it is counted.
    z = np.concatenate([y[: 10 * 66150], y[: SR + 100]])
    lost = z.copy()
    lost[10 * 66150 :] = 0.0
    per_window = rq._rmse_db(z, lost, SR)
    assert len(per_window) == 11 and per_window[-1] > 10.0 and max(per_window[:10]) == 0.0


def test_without_embedder_or_tags_those_columns_are_nan(clips):
    class NoTags(FakeEmbedder):
        tag_names: ClassVar[list[str]] = []

    copy = rq.System("copy", "reference", lambda y, sr: (y, 1))
    (plain,) = rq.rate_quality([copy], clips[:1], sample_rate=SR, visqol=False, progress=False)
    assert math.isnan(plain["embedding_cos"]) and math.isnan(plain["tag_overlap"])
    (cos_only,) = rq.rate_quality(
        [copy], clips[:1], sample_rate=SR, embedder=NoTags(), visqol=False, progress=False
    )
    assert cos_only["embedding_cos"] == pytest.approx(1.0) and math.isnan(cos_only["tag_overlap"])
    table = rq.rate_quality_markdown([plain])
    assert "musicnn" not in table and "top-5" not in table


def test_visqol_missing_gives_nan_and_a_note(clips, monkeypatch):
    def missing(*args):
        raise MissingComponentError("ViSQOL needs the optional package visqol-python")

    monkeypatch.setattr(listener, "_visqol", missing)
    copy = rq.System("copy", "reference", lambda y, sr: (y, 1))
    (row,) = rq.rate_quality([copy], clips, sample_rate=SR, progress=False)
    assert math.isnan(row["visqol"])
    assert "visqol-python" in row["visqol_note"] and "0 of 2 clips" in row["visqol_note"]
    assert "visqol-python" in rq.rate_quality_markdown([row])


def test_progress_goes_to_stderr(clips, capsys):
    copy = rq.System("copy", "reference", lambda y, sr: (y, 1))
    rq.rate_quality([copy], clips[:1], sample_rate=SR, visqol=False, progress=True)
    captured = capsys.readouterr()
    assert "copy: 1 clip(s)" in captured.err and captured.out == ""


def test_bad_clips_raise_typed_errors():
    copy = rq.System("copy", "reference", lambda y, sr: (y, 1))
    with pytest.raises(InvalidAudioError, match="at least one clip"):
        rq.rate_quality([copy], [], sample_rate=SR)
    with pytest.raises(InvalidAudioError, match="1-D"):
        rq.rate_quality([copy], [("stereo", np.zeros((SR, 2)))], sample_rate=SR)
    with pytest.raises(InvalidAudioError, match="at least 1 s"):
        rq.rate_quality([copy], [("short", np.zeros(SR // 4))], sample_rate=SR, visqol=False)


# --- table ----------------------------------------------------------------------------------


def test_markdown_sorts_latent_by_rate_then_ceiling_then_references(rows):
    table = rq.rate_quality_markdown(rows, note="MP3 skipped")
    lines = table.splitlines()
    header = lines[0]
    for unit in ("kbit/s", "log-mel RMSE (dB)", "onset r", "tempo kept (share)", "musicnn cosine"):
        assert unit in header
    assert "ViSQOL" not in header  # no row has one: only measured columns are shown
    names = [line.split("|")[1].strip() for line in lines[2:] if line.startswith("| ")]
    assert names == [
        "fake-codec 2 bits",
        "fake-codec 4 bits",
        "fake-codec 8 bits",
        "fake-codec log-mel inverted (ceiling)",
        "Opus 6 kbit/s",
        "Opus 12 kbit/s",
    ]
    ceiling_line = next(line for line in lines if "ceiling" in line)
    assert ceiling_line.split("|")[2].strip() == "—"
    assert "Mean over 2 clip(s)" in table and "demo-110, demo-128" in table
    assert "(MP3 skipped)" in table and "ViSQOL not measured: not asked for" in table
    assert len({len(line.split("|")) for line in lines[:2] + lines[2:8]}) == 1


# --- aims -----------------------------------------------------------------------------------


def _row(name, kind, kbps, nominal=None, **measures):
    row = {"system": name, "kind": kind, "family": name.split()[0], "kbps": kbps}
    row["nominal_kbps"] = nominal
    row.update({k: measures.get(k, math.nan) for k in rq.MEASURES})
    return row


def _opus():
    return [
        _row(
            "Opus 6 kbit/s",
            "reference",
            6.4,
            6.0,
            rmse_db=7.0,
            visqol=2.0,
            onset_r=0.6,
            chroma_r=0.7,
            embedding_cos=0.9,
        ),
        _row(
            "Opus 12 kbit/s",
            "reference",
            12.2,
            12.0,
            rmse_db=5.0,
            visqol=3.0,
            onset_r=0.8,
            chroma_r=0.85,
            embedding_cos=0.95,
        ),
    ]


def test_aims_at_the_best_latent_point_within_one_kbps():
    latent = [
        _row(
            "z 2 bits",
            "latent",
            0.4,
            rmse_db=8.0,
            visqol=2.2,
            onset_r=0.5,
            chroma_r=0.6,
            embedding_cos=0.8,
        ),
        _row(
            "z 4 bits",
            "latent",
            0.9,
            rmse_db=4.5,
            visqol=3.2,
            onset_r=0.7,
            chroma_r=0.65,
            embedding_cos=0.92,
        ),
        # Better still, but over budget: not the point judged.
        _row(
            "z 8 bits",
            "latent",
            1.8,
            rmse_db=3.0,
            visqol=4.0,
            onset_r=0.9,
            chroma_r=0.9,
            embedding_cos=0.99,
        ),
    ]
    result = rq.aims(latent + _opus())
    assert [a.met for a in result] == [True, True, True, False, True]
    rmse, _, onset, chroma, _ = result
    assert (rmse.value, rmse.reference) == (4.5, 5.0) and "Opus 12" in rmse.aim
    assert (onset.value, onset.reference) == (0.7, 0.6) and "Opus 6" in onset.aim
    assert (chroma.value, chroma.reference) == (0.65, 0.7)
    assert chroma.note == "z 4 bits (0.90 kbit/s) vs Opus 6 kbit/s"
    table = rq.aims_markdown(result)
    assert table.count("| yes |") == 4 and table.count("| no |") == 1


def test_aims_without_visqol_pick_the_lowest_rmse():
    latent = [
        _row("z 2 bits", "latent", 0.4, rmse_db=6.0, onset_r=0.9),
        _row("z 4 bits", "latent", 0.9, rmse_db=4.0, onset_r=0.1),
    ]
    result = rq.aims(latent + _opus())
    assert result[0].met is True and result[2].met is False  # z 4 bits, for every aim
    assert result[1].met is None and "not measured" in result[1].note  # no ViSQOL


def test_aims_not_measured_without_references_or_a_point_in_budget():
    latent = [_row("z 2 bits", "latent", 0.4, rmse_db=6.0, visqol=3.0)]
    for aim in rq.aims(latent):
        assert aim.met is None and "not measured" in aim.note and "ffmpeg" in aim.note
    for aim in rq.aims([_row("z 8 bits", "latent", 1.5, rmse_db=3.0), *_opus()]):
        assert aim.met is None and "no latent system at or under 1 kbit/s" in aim.note
    assert rq.aims_markdown(rq.aims(latent)).count("not measured") >= 5


# --- plot -----------------------------------------------------------------------------------


def test_rate_quality_plot_is_a_png(rows, tmp_path):
    path = tmp_path / "figs" / "rate-quality.png"
    path.parent.mkdir()
    mp3 = _row("MP3 32 kbit/s", "reference", 32.5, 32.0, rmse_db=3.0, onset_r=0.9)
    plot_rate_quality([*rows, mp3], path)
    assert path.read_bytes()[:8] == PNG
    assert [p.name for p in path.parent.iterdir()] == ["rate-quality.png"]  # no temporary left
    # Measures no row has get an empty panel instead of an error.
    plot_rate_quality(rows[:1], tmp_path / "one.png", measures=("visqol", "beat_f"))
    assert (tmp_path / "one.png").read_bytes()[:8] == PNG


# --- the shipped model ----------------------------------------------------------------------


def test_shipped_gtzan_ae_and_its_ceiling(clips):
    from keras_musiclatent import LatentSpace

    space = LatentSpace.load("gtzan-ae")
    systems = rq.latent_systems(space)
    assert [s.name for s in systems] == ["gtzan-ae"]
    ceiling = rq.inversion_ceiling(space)
    audio = clips[1][1]
    decoded, size = ceiling.round_trip(audio, SR)
    assert size == 0 and decoded.shape == audio.shape and np.abs(decoded).max() <= 1.0
    rows = rq.rate_quality(
        [*systems, ceiling], clips[1:], sample_rate=SR, visqol=False, progress=False
    )
    latent, top = rows
    assert latent["num_bytes"] == len(space.compress(audio, sr=SR))
    assert 0 < latent["kbps"] < 1.0  # a few hundred bytes for 3.5 s
    assert top["rmse_db"] < latent["rmse_db"]  # the ceiling is above the latent
